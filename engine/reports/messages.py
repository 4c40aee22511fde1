"""The reports engine's messages in zh-CN and en (problems in definitions and queries)."""

from __future__ import annotations

from engine import i18n

i18n.register_messages(
    {
        "reports.invalid": {"zh-CN": "报表定义有 {count} 处错误", "en": "The report definition has {count} error(s)"},
        "reports.unknown_field": {"zh-CN": "数据源 {source} 没有字段“{field}”（可用：{known}）",
                                  "en": "The {source} source has no field “{field}” (known: {known})"},
        "reports.unknown_form": {"zh-CN": "没有已发布的表单“{form}”", "en": "No published form “{form}”"},
        "reports.unknown_flow": {"zh-CN": "没有已发布的流程“{flow}”", "en": "No published flow “{flow}”"},
        "reports.bad_filter": {"zh-CN": "筛选条件有误", "en": "The filter is not valid"},
        "reports.bad_value": {"zh-CN": "“{value}”不是字段“{field}”的有效值",
                              "en": "“{value}” is not a valid value of “{field}”"},
        "reports.not_a_date": {"zh-CN": "字段“{field}”不是日期或时间",
                               "en": "The field “{field}” is not a date or time"},
        "reports.measure_kind": {
            "zh-CN": "指标 {agg} 不能用于字段“{field}”（类型为 {kind}）",
            "en": "The measure {agg} does not fit the field “{field}” (its type is {kind})"},
        "reports.compare_needs_range": {
            "zh-CN": "环比需要时间范围（数据集的 range 或看板的日期筛选）或按时间分组的维度",
            "en": "Comparing with the previous period needs a date range (the dataset's range or the dashboard's "
                  "date filter) or a date-bucket dimension"},
        "reports.field_hidden": {"zh-CN": "您无权查看字段：{field}", "en": "You may not see the field(s): {field}"},
        "reports.bucket_not_date": {"zh-CN": "只有日期字段可以按时间分组，“{field}”的类型为 {kind}",
                                    "en": "Only date fields have time buckets; “{field}” is {kind}"},
        "reports.level_not_department": {
            "zh-CN": "只有部门字段可以按层级汇总，“{field}”不是部门",
            "en": "Only department fields roll up by level; “{field}” is not a department"},
    }
)
