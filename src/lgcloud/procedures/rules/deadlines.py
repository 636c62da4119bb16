"""届出期間: the last day to file, counted as the law counts it. Pure: the caller passes the dates.

住民基本台帳法 第22条〜第25条: 14日以内. 民法 第140条: the first day is not counted, so the period
ends at the end of day ``days`` after the event. 地方自治法 第4条の2 第4項: a deadline for filing
with a municipality that falls on a day its offices are closed (土日・祝日・年末年始 12/29〜1/3)
moves to the next open day. Holidays come from jpholiday (a pure calendar computation).
"""

from __future__ import annotations

from datetime import date, timedelta

import jpholiday


def is_closed(day: date) -> bool:
    """地方公共団体の休日: 土曜・日曜・国民の祝日・年末年始（12月29日〜1月3日）."""
    if day.weekday() >= 5 or jpholiday.is_holiday(day):
        return True
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


def filing_deadline(event_day: date, days: int) -> date:
    """The last day to file for an event on ``event_day`` with a period of ``days`` days."""
    last = event_day + timedelta(days=days)
    while is_closed(last):
        last += timedelta(days=1)
    return last


def is_late(event_day: date, days: int, filed_on: date) -> bool:
    return filed_on > filing_deadline(event_day, days)
