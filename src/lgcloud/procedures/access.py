"""Single submissions and attachments: tenant first, then who may see it.

"Not found" and "not yours" look the same (Http404): another municipality's submission, another
resident's, or one whose procedure the clerk does not review.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from lgcloud.audit.actions import record as audit
from lgcloud.core.permissions import PlatformPermission
from lgcloud.core.tenancy import TenantContext, bound

from .models import Attachment, Submission

REVIEW = PlatformPermission.REVIEW
ASSIST = PlatformPermission.COUNTER_ASSIST


def get_submission_for_review(ctx: TenantContext, number: int) -> Submission:
    """A submission of ctx's municipality, for a reviewer or the counter; audited as a read."""
    if not (ctx.has(REVIEW) or ctx.has(ASSIST)):
        raise PermissionDenied
    with bound(ctx):
        submission = (
            Submission.objects.select_related("definition")
            .filter(municipality_id=ctx.tenant_code, number=number)
            .first()
        )
        if submission is None:
            raise Http404("申請が見つかりません。")
        audit(ctx, "procedures.submission.viewed", subject_type="submission", subject_id=number)
        return submission


def get_submission_for_resident(ctx: TenantContext, account_id: int, number: int) -> Submission:
    """One of the signed-in resident's own submissions."""
    ctx.require(PlatformPermission.RESIDENT_FILE)
    with bound(ctx):
        submission = (
            Submission.objects.select_related("definition")
            .filter(municipality_id=ctx.tenant_code, number=number, resident_account_id=account_id)
            .first()
        )
        if submission is None:
            raise Http404("申請が見つかりません。")
        return submission


def get_attachment_for_review(ctx: TenantContext, number: int, attachment_id: int) -> Attachment:
    """An attachment of a submission of ctx's municipality; audited as a read."""
    if not (ctx.has(REVIEW) or ctx.has(ASSIST)):
        raise PermissionDenied
    with bound(ctx):
        attachment = (
            Attachment.objects.select_related("submission")
            .filter(municipality_id=ctx.tenant_code, submission__number=number, pk=attachment_id)
            .first()
        )
        if attachment is None:
            raise Http404("添付ファイルが見つかりません。")
        audit(ctx, "procedures.attachment.downloaded", subject_type="attachment", subject_id=attachment.pk)
        return attachment
