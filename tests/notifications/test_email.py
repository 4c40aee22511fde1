"""Email goes through a real SMTP server on 127.0.0.1, rendered in each recipient's language."""

from __future__ import annotations

from sqlalchemy import select

from engine.runtime.site import Site
from engine.services import Notification, Recipient
from engine.store.models import InboxMessage, OutboxMessage
from engine.store.models.identity import User
from tests.helpers import make_user
from tests.notifications.servers import smtp_server

TEMPLATE = {"subject": {"zh": "隐患聚集：{{ area }}", "en": "Hazard cluster in {{ area }}"},
            "body": {"zh": "{{ recipient.name }}，7 天内 {{ count }} 条隐患", "en": "Dear {{ recipient.name }}, "
                     "{{ count }} hazards in 7 days"}}


def _publish_template(site: Site) -> None:
    from engine.store.audit import Actor
    from engine.store.definitions import DefinitionRepository

    with site.session() as session:
        DefinitionRepository(session).publish(Actor.system("test"), "template", "hazard_cluster", TEMPLATE)


def test_an_email_reaches_the_smtp_server_in_the_recipients_language(csite: Site) -> None:
    zh = make_user(csite, "wang", email="wang@example.test", roles=("plant_manager",))
    en = make_user(csite, "smith", email="smith@example.test", roles=("plant_manager",))
    with csite.session() as session:
        session.get(User, en).locale = "en"
    _publish_template(csite)
    with smtp_server() as mailbox:
        csite.settings.smtp_host, csite.settings.smtp_port = "127.0.0.1", mailbox.port
        with csite.session() as session:
            csite.notifier(session).notify(Notification(
                to=[Recipient("role", "plant_manager")], channels=("email",), template="hazard_cluster",
                context={"area": "A-3", "count": 6}))
        report = csite.drain()
    assert report.pumped == 2
    got = {tuple(rcpt): msg for rcpt, msg in mailbox.messages}
    assert got[("wang@example.test",)]["Subject"] == "隐患聚集：A-3"
    assert "wang，7 天内 6 条隐患" in got[("wang@example.test",)].get_content()
    assert got[("smith@example.test",)]["Subject"] == "Hazard cluster in A-3"
    with csite.session() as session:
        states = {(m.recipient, m.status) for m in session.execute(select(OutboxMessage)).scalars()}
        assert zh and states == {("wang@example.test", "sent"), ("smith@example.test", "sent")}


def test_a_person_without_an_email_gets_a_dead_letter_that_says_why(csite: Site) -> None:
    make_user(csite, "li")
    with csite.session() as session:
        queued = csite.notifier(session).notify(Notification(to=[Recipient("user", 1)], channels=("email",),
                                                             subject={"zh": "测试", "en": "test"}))
    assert [(q.status, q.error) for q in queued] == [("dead", "li has no email address")]


def test_an_unreachable_smtp_server_is_retried_later(csite: Site, clock) -> None:
    from datetime import timedelta

    make_user(csite, "zhao", email="zhao@example.test")
    with smtp_server() as mailbox:
        port = mailbox.port
    csite.settings.smtp_host, csite.settings.smtp_port = "127.0.0.1", port  # nobody listens any more
    with csite.session() as session:
        csite.notifier(session).notify(Notification(to=[Recipient("user", 1)], channels=("email",),
                                                    subject={"zh": "测试", "en": "test"}))
    csite.drain()
    with csite.session() as session:
        row = session.execute(select(OutboxMessage)).scalar_one()
        assert row.status == "failed" and row.attempts == 1 and row.last_error
    with smtp_server() as mailbox:
        csite.settings.smtp_port = mailbox.port
        clock.advance(timedelta(seconds=31))
        csite.drain()
        assert len(mailbox.messages) == 1


def test_in_app_messages_land_in_the_inbox_with_the_cause(csite: Site) -> None:
    uid = make_user(csite, "sun")
    with csite.session() as session:
        queued = csite.notifier(session).notify(Notification(
            to=[Recipient("user", uid)], channels=("inapp",), subject={"zh": "请处理 {{ n }}", "en": "Handle {{ n }}"},
            context={"n": 7}, source={"rule": "r1"}))
    assert [q.status for q in queued] == ["sent"]
    with csite.session() as session:
        inbox = session.execute(select(InboxMessage)).scalar_one()
    assert (inbox.user_id, inbox.title, inbox.source) == (uid, "请处理 7", {"rule": "r1"})
