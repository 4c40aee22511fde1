"""zh-CN / en texts for every problem and notification template the flow engine uses."""

from engine.i18n import register_messages

MESSAGES: dict[str, dict[str, str]] = {
    # definition shape
    "flow.json_syntax": {"zh-CN": "JSON 语法错误：{error}", "en": "JSON syntax error: {error}"},
    "flow.schema": {"zh-CN": "定义格式错误：{error}", "en": "Invalid definition: {error}"},
    "flow.node.unknown_type": {
        "zh-CN": "未知的节点类型 “{type}”（可用：{known}）",
        "en": 'Unknown node type "{type}" (known: {known})',
    },
    "flow.node.missing_type": {"zh-CN": "节点缺少 type", "en": "Node has no type"},
    # graph
    "flow.node.duplicate": {"zh-CN": "节点 id “{node}” 重复", "en": 'Duplicate node id "{node}"'},
    "flow.start.missing": {"zh-CN": "流程没有开始节点", "en": "The flow has no start node"},
    "flow.start.many": {"zh-CN": "多余的开始节点 “{node}”", "en": 'Extra start node "{node}"'},
    "flow.start.incoming": {
        "zh-CN": "开始节点 “{node}” 不能有进入的连线",
        "en": 'Start node "{node}" cannot have incoming edges',
    },
    "flow.end.missing": {"zh-CN": "流程没有结束节点", "en": "The flow has no end node"},
    "flow.end.outgoing": {
        "zh-CN": "结束节点 “{node}” 不能有流出的连线",
        "en": 'End node "{node}" cannot have outgoing edges',
    },
    "flow.edge.dangling": {
        "zh-CN": "连线指向不存在的节点 “{node}”",
        "en": 'Edge refers to unknown node "{node}"',
    },
    "flow.edge.condition_not_on_gateway": {
        "zh-CN": "只有排他/包容网关的连线可以有条件或默认（来自 “{node}”）",
        "en": "Only edges leaving an exclusive or inclusive gateway may have a condition or be default "
        '(from "{node}")',
    },
    "flow.edge.condition": {
        "zh-CN": "条件 “{expr}” 有误：{error}",
        "en": 'Condition "{expr}" is invalid: {error}',
    },
    "flow.node.unreachable": {
        "zh-CN": "节点 “{node}” 从开始节点无法到达",
        "en": 'Node "{node}" cannot be reached from the start',
    },
    "flow.node.dead_end": {
        "zh-CN": "节点 “{node}” 无法到达任何结束节点",
        "en": 'Node "{node}" cannot reach any end node',
    },
    "flow.node.many_outgoing": {
        "zh-CN": "节点 “{node}” 有 {count} 条流出连线，分支请使用网关",
        "en": 'Node "{node}" has {count} outgoing edges; use a gateway to branch',
    },
    "flow.split.no_join": {
        "zh-CN": "{kind} 分支 “{node}” 没有对应的汇聚网关",
        "en": 'The {kind} split "{node}" has no matching join',
    },
    "flow.gateway.many_defaults": {
        "zh-CN": "网关 “{node}” 有多条默认连线",
        "en": 'Gateway "{node}" has more than one default edge',
    },
    "flow.gateway.no_outgoing": {
        "zh-CN": "网关 “{node}” 没有流出连线",
        "en": 'Gateway "{node}" has no way out',
    },
    "flow.gateway.unguarded": {
        "zh-CN": "排他网关 “{node}” 既无条件也无默认连线，将总走第一条",
        "en": 'Exclusive gateway "{node}" has neither conditions nor a default; '
        "it always takes the first edge",
    },
    "flow.gateway.no_default": {
        "zh-CN": "排他网关 “{node}” 没有默认连线；条件都不满足时实例会进入错误状态",
        "en": 'Exclusive gateway "{node}" has no default edge; if no condition holds '
        "the instance stops in an error state",
    },
    "flow.gateway.parallel_condition": {
        "zh-CN": "并行网关 “{node}” 的连线不能有条件",
        "en": 'Edges of parallel gateway "{node}" cannot have conditions',
    },
    "flow.assignee.missing": {"zh-CN": "节点 “{node}” 没有设置处理人", "en": 'Node "{node}" has no assignee'},
    "flow.field.unknown": {
        "zh-CN": "节点 “{node}” 引用了表单中不存在的字段 “{field}”",
        "en": 'Node "{node}" refers to field "{field}", which the form does not have',
    },
    "flow.expression": {
        "zh-CN": "节点 “{node}” 的表达式 “{expr}” 有误：{error}",
        "en": 'Expression "{expr}" of node "{node}" is invalid: {error}',
    },
    "flow.duration": {
        "zh-CN": "节点 “{node}” 的时长有误：{error}",
        "en": 'Bad duration at node "{node}": {error}',
    },
    "flow.reject.bad_target": {
        "zh-CN": "“{node}” 的驳回目标 “{target}” 不是其上游的人工节点",
        "en": 'Reject target "{target}" of "{node}" is not an upstream user node',
    },
    "flow.deadline.bad_target": {
        "zh-CN": "“{node}” 超时跳转的目标 “{target}” 不存在",
        "en": 'Timeout jump target "{target}" of "{node}" does not exist',
    },
    "flow.approve.ratio_without_vote": {
        "zh-CN": "“{node}” 设置了通过比例，但审批方式不是票签",
        "en": '"{node}" sets pass_ratio but its mode is not vote',
    },
    "flow.automation.one_action": {
        "zh-CN": "“{node}” 的每个自动动作只能是 set、create_record、webhook 之一",
        "en": 'Each action of "{node}" must be exactly one of set, create_record, webhook',
    },
    "flow.wait.one_of": {
        "zh-CN": "等待节点 “{node}” 需设置 duration 或 until 之一",
        "en": 'Wait node "{node}" needs exactly one of duration or until',
    },
    "flow.subflow.unknown": {
        "zh-CN": "子流程 “{flow}” 不存在（节点 “{node}”）",
        "en": 'Sub-flow "{flow}" does not exist (node "{node}")',
    },
    # runtime errors (instance error state)
    "flow.gateway.no_match": {
        "zh-CN": "网关 “{node}” 没有满足的条件，也没有默认连线",
        "en": 'No condition of gateway "{node}" holds and it has no default',
    },
    "flow.condition.error": {
        "zh-CN": "网关 “{node}” 的条件 “{condition}” 计算出错：{error}",
        "en": 'Condition "{condition}" of gateway "{node}" failed: {error}',
    },
    "flow.assignee.none": {
        "zh-CN": "节点 “{node}” 找不到处理人，且没有管理员可转交",
        "en": 'Nobody to assign at "{node}" and no admin to hand it to',
    },
    "flow.automation.error": {
        "zh-CN": "自动节点 “{node}” 执行出错：{error}",
        "en": 'Automation node "{node}" failed: {error}',
    },
    "flow.wait.error": {
        "zh-CN": "等待节点 “{node}” 出错：{error}",
        "en": 'Wait node "{node}" failed: {error}',
    },
    # actions
    "flow.action.unknown": {
        "zh-CN": "未知的操作 “{action}”（可用：{known}）",
        "en": 'Unknown action "{action}" (known: {known})',
    },
    "flow.action.not_for_node": {
        "zh-CN": "操作 “{action}” 不适用于 {type} 节点 “{node}”",
        "en": 'Action "{action}" does not apply to {type} node "{node}"',
    },
    "flow.action.field_not_editable": {
        "zh-CN": "节点 “{node}” 不允许修改字段：{fields}",
        "en": 'Field(s) not editable at "{node}": {fields}',
    },
    "flow.action.nothing_to_choose": {
        "zh-CN": "“{node}” 之后没有需要选择处理人的节点",
        "en": 'No node after "{node}" takes a chosen assignee',
    },
    "flow.action.not_delegated": {
        "zh-CN": "任务 {task} 不是委派给你的",
        "en": "Task {task} was not delegated to you",
    },
    "flow.action.one_user": {
        "zh-CN": "“{action}” 需要且只能指定一个人",
        "en": '"{action}" needs exactly one user',
    },
    "flow.action.no_users": {"zh-CN": "“{action}” 需要指定人员", "en": '"{action}" needs users'},
    "flow.action.bad_user": {
        "zh-CN": "“{action}” 不能指定用户 {user}",
        "en": '"{action}" cannot take user {user}',
    },
    "flow.action.bad_position": {
        "zh-CN": "加签位置只能是 before 或 after（收到 {position}）",
        "en": "Signer position must be before or after (got {position})",
    },
    "flow.action.last_signer": {
        "zh-CN": "“{node}” 至少要保留一位审批人",
        "en": '"{node}" must keep at least one signer',
    },
    "flow.action.unknown_node": {"zh-CN": "节点 “{node}” 不存在", "en": 'Node "{node}" does not exist'},
    "flow.reject.target_not_allowed": {
        "zh-CN": "“{node}” 不允许选择驳回目标",
        "en": '"{node}" does not let the approver choose where to send back',
    },
    "flow.task.not_open": {
        "zh-CN": "任务 {what} 已不是待办（{state}）",
        "en": "Task {what} is no longer open ({state})",
    },
    "flow.task.waiting": {
        "zh-CN": "任务 {what} 正在等待加签人处理",
        "en": "Task {what} waits for added signers",
    },
    "flow.task.not_assignee": {
        "zh-CN": "用户 {user} 不是任务 {task} 的处理人",
        "en": "User {user} is not the assignee of task {task}",
    },
    "flow.instance.not_running": {
        "zh-CN": "流程实例 {what} 已不在运行（{state}）",
        "en": "Flow instance {what} is not running ({state})",
    },
    "flow.instance.not_in_error": {
        "zh-CN": "流程实例 {what} 不在错误状态",
        "en": "Flow instance {what} is not in an error state",
    },
    "flow.instance.stale": {
        "zh-CN": "流程实例 {what} 正被他人同时修改，请重试",
        "en": "Flow instance {what} is being changed by someone else; try again",
    },
    "flow.version_exists": {"zh-CN": "流程版本已存在：{what}", "en": "Flow version already exists: {what}"},
    "flow.withdraw.disabled": {"zh-CN": "此流程不允许撤回", "en": "This flow does not allow withdrawing"},
    "flow.withdraw.nothing": {
        "zh-CN": "用户 {user} 没有可撤回的提交",
        "en": "User {user} has nothing to withdraw",
    },
    "flow.withdraw.too_late": {
        "zh-CN": "下一节点已处理，不能撤回 “{what}”",
        "en": 'The next node has already acted; "{what}" cannot be withdrawn',
    },
    "flow.urge.not_allowed": {
        "zh-CN": "只有发起人或管理员可以催办",
        "en": "Only the initiator or an admin can urge",
    },
    "flow.urge.nothing_open": {
        "zh-CN": "“{node}” 没有待办任务可催办",
        "en": '"{node}" has no open task to urge',
    },
    "flow.comment.not_allowed": {
        "zh-CN": "用户 {user} 未参与此流程，不能评论",
        "en": "User {user} takes no part in this instance and cannot comment",
    },
    "flow.comment.empty": {"zh-CN": "评论不能为空", "en": "A comment needs text or attachments"},
    "flow.cancel.not_allowed": {
        "zh-CN": "只有发起人或管理员可以取消流程",
        "en": "Only the initiator or an admin can cancel",
    },
    "flow.admin_only": {"zh-CN": "只有管理员可以执行此操作", "en": "Only an admin can do this"},
    # simulate
    "flow.simulate.bad_line": {
        "zh-CN": "脚本行需要 task、action、by（或 advance），多余的键：{keys}",
        "en": "A script line needs task, action and by (or advance); unexpected keys: {keys}",
    },
    "flow.simulate.bad_advance": {
        "zh-CN": "advance 时长有误：{error}",
        "en": "Bad advance duration: {error}",
    },
    "flow.simulate.unknown_user": {"zh-CN": "组织中没有用户 “{user}”", "en": 'No user "{user}" in the org'},
    "flow.simulate.no_task": {
        "zh-CN": "节点 “{node}” 没有 {user} 的待办任务（当前处理人：{holders}）",
        "en": 'No open task at "{node}" for {user} (held by: {holders})',
    },
    "flow.instance.not_yours": {"zh-CN": "你没有参与流程实例 {id}", "en": "You take no part in flow instance {id}"},
    # BPMN import
    "flow.bpmn.xml": {"zh-CN": "BPMN 文件不是有效的 XML：{error}", "en": "The BPMN file is not valid XML: {error}"},
    "flow.bpmn.no_process": {"zh-CN": "BPMN 文件中没有 process", "en": "The BPMN file has no process"},
    "flow.bpmn.extra_process": {"zh-CN": "只导入了第一个可执行流程，跳过 {element}",
                                "en": "Only the first executable process is imported; {element} skipped"},
    "flow.bpmn.unsupported": {"zh-CN": "不支持的元素 {tag}（{element}），已保留为待处理的人工节点",
                              "en": "Unsupported element {tag} ({element}) kept as a placeholder node to fix"},
    "flow.bpmn.condition": {"zh-CN": "连线 {element} 的条件 “{condition}” 无法转换，请改写",
                            "en": "Condition \"{condition}\" of {element} could not be translated; rewrite it"},
    "flow.bpmn.completion_condition": {
        "zh-CN": "{element} 的完成条件 “{condition}” 无法映射，按会签导入",
        "en": "Completion condition \"{condition}\" of {element} is not a known pattern; imported as countersign"},
    "flow.bpmn.cardinality": {"zh-CN": "{element} 的 loopCardinality={cardinality} 按处理人人数处理",
                              "en": "loopCardinality={cardinality} of {element}: one task per resolved assignee"},
    "flow.bpmn.boundary": {"zh-CN": "边界事件 {element} 只支持挂在人工节点上的定时器",
                           "en": "Boundary event {element}: only timers on user tasks are mapped"},
    "flow.bpmn.boundary_path": {"zh-CN": "非中断定时器后的路径 {element} 已改为提醒",
                                "en": "The path after a non-interrupting timer ({element}) became reminders"},
    "flow.bpmn.timer": {"zh-CN": "定时器 {element}（{timer}）无法映射", "en": "Timer {element} ({timer}) not mapped"},
    "flow.bpmn.start_trigger": {"zh-CN": "开始事件 {element} 的触发（{trigger}）未导入，流程由记录发起",
                                "en": "Start trigger {trigger} of {element} not imported; flows start on a record"},
    "flow.bpmn.end_trigger": {"zh-CN": "结束事件 {element} 的事件定义未导入",
                              "en": "The event definition of end event {element} is not imported"},
    "flow.bpmn.dangling_flow": {"zh-CN": "连线 {element} 连到未导入的元素",
                                "en": "Flow {element} touches a skipped element"},
    "flow.bpmn.reject_loop": {
        "zh-CN": "网关 {element} 已合并为 “{task}” 的驳回（退回 “{target}”，原条件 {condition}）",
        "en": "Gateway {element} folded into the rejection of \"{task}\" "
              "(back to \"{target}\"; was {condition})"},
    "flow.migrate.bad_map": {"zh-CN": "--map 需写成 旧节点=新节点", "en": "--map takes OLD_NODE=NEW_NODE"},
    # notification templates
    "flow.remind": {"zh-CN": "您有待办任务即将到期：{node}", "en": "A task of yours is due soon: {node}"},
    "flow.overdue": {"zh-CN": "您的待办任务已超时：{node}", "en": "A task of yours is overdue: {node}"},
    "flow.escalated": {
        "zh-CN": "超时任务已升级给您处理：{node}",
        "en": "An overdue task was escalated to you: {node}",
    },
    "flow.urge": {"zh-CN": "发起人催办：{node}", "en": "The initiator is waiting on you: {node}"},
    "flow.assigned": {"zh-CN": "有任务转交给您：{node}", "en": "A task was handed to you: {node}"},
    "flow.cc": {"zh-CN": "抄送给您：{flow}", "en": "For your information: {flow}"},
}

# Instance and task states as people read them (errors name the state an action found).
STATE_LABELS: dict[str, dict[str, str]] = {
    "running": {"zh": "运行中", "en": "running"},
    "completed": {"zh": "已完成", "en": "completed"},
    "rejected": {"zh": "已驳回", "en": "rejected"},
    "error": {"zh": "出错", "en": "in error"},
    "cancelled": {"zh": "已取消", "en": "cancelled"},
    "open": {"zh": "待办", "en": "open"},
    "waiting": {"zh": "等待加签", "en": "waiting"},
    "done": {"zh": "已处理", "en": "done"},
    "withdrawn": {"zh": "已撤回", "en": "withdrawn"},
    "cc": {"zh": "抄送", "en": "cc"},
}


def state_label(state: str) -> dict[str, str] | str:
    """A state as a bilingual label for a message parameter (an unknown one as it is)."""
    return STATE_LABELS.get(state, state)


register_messages(MESSAGES)
