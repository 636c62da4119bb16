"""E-mail to the resident about their submission, sent only after the commit.

Through Django's e-mail backend (SMTP in production: ``LGCLOUD_SMTP_*``). The message names the
procedure, the 受付番号 and the new status, and links to the portal; it carries no registry data.
A failure to send is logged by 受付番号 only (never the address) and does not undo the decision:
the portal always shows the current status.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

logger = logging.getLogger(__name__)

MESSAGES = {
    "submitted": ("受け付けました", "申請を受け付けました。審査の結果はこのメールとポータルでお知らせします。"),
    "approved": ("承認されました", "申請は承認され、処理が終わりました。"),
    "returned": (
        "修正をお願いします",
        "申請内容の修正をお願いします。ポータルで理由をご確認のうえ、修正して再提出してください。",
    ),
    "rejected": ("却下されました", "申請は却下されました。理由はポータルでご確認ください。"),
}


def send_status(lg_code: str, number: int, title: str, kind: str, email: str) -> None:
    subject_tail, body = MESSAGES[kind]
    url = f"{settings.PUBLIC_URL}/portal/{lg_code}/submissions/{number}/"
    try:
        send_mail(
            f"【{title}】受付番号 {number}: {subject_tail}",
            f"{body}\n\n手続: {title}\n受付番号: {number}\n状況の確認: {url}\n\n"
            "このメールは送信専用です。お問い合わせは市区町村の窓口へお願いします。\n",
            settings.DEFAULT_FROM_EMAIL,
            [email],
        )
    except (OSError, ValueError):
        logger.warning("status e-mail for submission %s (%s) could not be sent", number, kind)


def after_commit(lg_code: str, number: int, title: str, kind: str, email: str) -> None:
    if email:
        transaction.on_commit(lambda: send_status(lg_code, number, title, kind, email))
