"""DV等支援措置: who may be given a copy of a protected person's 住民票 (住基法12条, 支援措置要領). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

PERIOD_DAYS = 365  # 1 year; an extension is asked for from 1 month before the end
EXTENSION_WINDOW_DAYS = 31

# Channels refused outright while a measure is in force.
REFUSED_CHANNELS = frozenset({"proxy", "post", "kiosk"})


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


def expiry_for(starts_on: date) -> date:
    return starts_on + timedelta(days=PERIOD_DAYS - 1)


def can_extend(expires_on: date, today: date) -> bool:
    return expires_on - timedelta(days=EXTENSION_WINDOW_DAYS) <= today <= expires_on


def check_issue(
    *, protected: bool, channel: str, requester_is_adversary: bool, requester_is_subject_or_household: bool
) -> Refusal | None:
    """Why a certificate naming a protected person must not be issued, or None if it may be."""
    if requester_is_adversary:
        return Refusal("protected_adversary", "支援措置の対象者について、加害者からの請求には交付できません。")
    if not protected:
        return None
    if channel in REFUSED_CHANNELS:
        return Refusal(
            "protected_channel",
            "支援措置の対象者の住民票は、代理人・郵送・コンビニ交付では交付できません。窓口で本人確認のうえ請求してください。",
        )
    if not requester_is_subject_or_household:
        return Refusal(
            "protected_third_party",
            "支援措置の対象者について、第三者からの請求は審査が必要です。担当課へ回付してください。",
        )
    return None
