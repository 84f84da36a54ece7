"""The offline writer: deterministic, channel-aware templates that need no network.

Used when no model is configured and whenever the model fails. The same lead and step give
the same text every time; the lead's name, company, title, context, notes and earlier
steps fill it in.
"""

from __future__ import annotations

from app.llm.facts import LeadFacts, StepFacts
from app.llm.models import GeneratedPlan, GeneratedStep

LINKEDIN_LIMIT = 300
TELEGRAM_LIMIT = 400

# Each plan: (delay_days, channel, description). "main" is the lead's preferred channel.
_PLANS: dict[str, list[tuple[int, str, str]]] = {
    "linkedin": [
        (0, "linkedin", "Send a connection request with a short personal note"),
        (3, "email", "Send a short intro email tied to their context"),
        (7, "linkedin", "Follow up on LinkedIn with something useful for them"),
        (10, "phone", "Call to ask for a 15-minute conversation"),
        (14, "email", "Send a follow-up email with one concrete next step"),
        (21, "email", "Close the loop politely and leave the door open"),
    ],
    "email": [
        (0, "email", "Send a short intro email tied to their context"),
        (2, "linkedin", "Connect on LinkedIn with a short personal note"),
        (5, "email", "Follow up by email with something useful for them"),
        (9, "phone", "Call to ask for a 15-minute conversation"),
        (14, "email", "Send a follow-up email with one concrete next step"),
        (21, "email", "Close the loop politely and leave the door open"),
    ],
    "phone": [
        (0, "email", "Send a short email announcing your call"),
        (1, "phone", "Call to introduce yourself and ask for a meeting"),
        (4, "email", "Recap the call (or the missed call) by email"),
        (8, "phone", "Call again to agree on a next step"),
        (14, "email", "Send a follow-up email with one concrete next step"),
        (21, "email", "Close the loop politely and leave the door open"),
    ],
    "telegram": [
        (0, "telegram", "Send a short, friendly intro message on Telegram"),
        (3, "email", "Send a short intro email with more detail"),
        (6, "telegram", "Follow up on Telegram with something useful for them"),
        (10, "phone", "Call to ask for a 15-minute conversation"),
        (14, "telegram", "Suggest a concrete next step on Telegram"),
        (21, "email", "Close the loop politely and leave the door open"),
    ],
}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _hook(context: str | None, limit: int = 120) -> str | None:
    """The first sentence of the context, as a short phrase to refer to."""
    if not context or not context.strip():
        return None
    first = context.strip().splitlines()[0]
    for stop in (". ", "! ", "? "):
        if stop in first:
            first = first.split(stop, 1)[0]
    return _clip(first.strip().rstrip(".!?"), limit)


def _at(lead: LeadFacts) -> str:
    if lead.title and lead.company:
        return f" as {lead.title} at {lead.company}"
    if lead.company:
        return f" at {lead.company}"
    if lead.title:
        return f" as {lead.title}"
    return ""


def template_plan(lead: LeadFacts) -> GeneratedPlan:
    """A sensible 6-step plan led by the lead's preferred channel (LinkedIn by default)."""
    main = lead.channel if lead.channel in _PLANS else "linkedin"
    steps = []
    for index, (delay, channel, description) in enumerate(_PLANS[main], start=1):
        step = StepFacts(
            step_id=index,
            position=index - 1,
            total=len(_PLANS[main]),
            description=description,
            channel=channel,
        )
        steps.append(
            GeneratedStep(
                step_id=index,
                description=description,
                timing="Immediately" if delay == 0 else f"Day {delay}",
                delay_days=delay,
                channel=channel,
                suggested_text=template_draft(lead, step),
            )
        )
    return GeneratedPlan(steps=steps)


def template_draft(lead: LeadFacts, step: StepFacts) -> str:
    """The message for one step, in the shape its channel wants."""
    first = lead.first_name
    hook = _hook(lead.context)
    note = _hook(lead.notes[0], 100) if lead.notes else None
    follow_up = step.position > 0 or bool(lead.history)
    company = lead.company or "your team"
    if step.channel == "linkedin":
        if follow_up:
            text = f"Hi {first}, following up on my earlier message."
            if note:
                text += f" {note}."
            elif hook:
                text += f" Still thinking about {hook}."
            text += " Would a short chat next week be useful?"
        else:
            text = f"Hi {first}, I came across your work{_at(lead)}."
            if hook:
                text += f" {hook} caught my eye."
            text += " I'd be glad to connect."
        return _clip(text, LINKEDIN_LIMIT)
    if step.channel == "email":
        if follow_up:
            subject = f"Following up — {company}"
            opening = "I wanted to follow up on my earlier note."
        else:
            subject = f"An idea for {company}"
            opening = f"I'm reaching out because of your work{_at(lead)}."
        lines = [f"Subject: {subject}", "", f"Hi {first},", "", opening]
        if note:
            lines.append(f"{note}.")
        elif hook:
            lines.append(f"You mentioned {hook}, and I think we can help with exactly that.")
        lines += [
            "",
            "Would you have 15 minutes for a short call this week or next?",
            "",
            "Best regards",
        ]
        return "\n".join(lines)
    if step.channel == "phone":
        bullets = [
            f"- Introduce yourself and why you are calling {first}"
            + (f" at {lead.company}" if lead.company else ""),
        ]
        if lead.history:
            bullets.append(f"- Refer to the last step: {_clip(lead.history[0], 100)}")
        if hook:
            bullets.append(f"- Ask about {hook}")
        if note:
            bullets.append(f"- Mention: {note}")
        bullets += [
            "- Ask what would make a conversation worth their time",
            "- Agree on a concrete next step and a date",
        ]
        return "\n".join(bullets)
    if step.channel == "telegram":
        text = f"Hi {first}! " + (
            "Just checking in on my earlier message." if follow_up else "Quick hello from me."
        )
        if note:
            text += f" {note}."
        elif hook:
            text += f" Saw {hook} — sounds interesting."
        text += " Fancy a quick chat?"
        return _clip(text, TELEGRAM_LIMIT)
    text = f"Hi {first}, " + (
        "following up on my earlier message." if follow_up else f"reaching out about {company}."
    )
    if hook:
        text += f" {hook}."
    return _clip(text + " Would a short conversation be useful?", 1000)
