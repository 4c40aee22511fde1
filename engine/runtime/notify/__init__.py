"""Notifications: the outbox notifier, templates, channels and the delivery worker."""

from engine.runtime.notify import robots as _robots  # noqa: F401  (registers the robot channels)
from engine.runtime.notify.channels import CHANNELS, Channel, DeliveryFailed, register_channel
from engine.runtime.notify.delivery import DeliveryReport, deliver_due, send_by_id, send_claimed
from engine.runtime.notify.outbox import OutboxNotifier, Queued
from engine.runtime.notify.templates import TEMPLATE_KIND, check_template, register_template, render

__all__ = [
    "CHANNELS",
    "TEMPLATE_KIND",
    "Channel",
    "DeliveryFailed",
    "DeliveryReport",
    "OutboxNotifier",
    "Queued",
    "check_template",
    "deliver_due",
    "register_channel",
    "register_template",
    "render",
    "send_by_id",
    "send_claimed",
]
