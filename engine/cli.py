"""`safeflow`: the command line. Each area's commands live in engine/commands/."""

from __future__ import annotations

import typer

from engine.commands import check, demo, flow, forms, packs, reports, rules, system, worker

app = typer.Typer(name="safeflow", help="SafeFlow: no-code EHS platform", no_args_is_help=True,
                  pretty_exceptions_enable=False)
app.command("serve")(system.serve)
app.command("worker")(worker.worker)
app.command("check")(check.check)
app.command("demo")(demo.demo)
app.add_typer(system.db_app, name="db")
app.add_typer(system.user_app, name="user")
app.add_typer(system.org_app, name="org")
app.add_typer(system.audit_app, name="audit")
app.add_typer(forms.form_app, name="form")
app.add_typer(flow.app, name="flow")
app.add_typer(packs.app, name="pack")
app.add_typer(rules.app, name="rules")
app.add_typer(reports.report_app, name="report")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
