"""住民記録's permissions (declared in its manifest; call sites use the members)."""

from __future__ import annotations

from lgcloud.contract import Permission


class RegistryPermission(Permission):
    RESIDENT_READ = "registry:resident:read", "住民記録の参照"
    RESIDENT_WRITE = "registry:resident:write", "住民記録の異動処理"
    CERTIFICATE_ISSUE = "registry:certificate:issue", "住民票の写し等の交付"
    INDIVIDUAL_NUMBER_READ = "registry:individual_number:read", "個人番号の表示（法令に定める事務のみ）"
    PROTECTION_MANAGE = "registry:protection:manage", "支援措置の設定・延長・終了"
    CERTIFICATE_SELF_SERVICE = "registry:certificate:self_service", "本人確認済み住民への証明書の自動交付"
    TRANSFER_CONFIRM = "registry:transfer:confirm", "他団体からの転入（転出証明書情報）の確認・転入処理"
    RESIDENT_EXPORT = "registry:resident:export", "住民記録の全件出力（標準レイアウト・データ移行）"
    RESIDENT_RESTORE = "registry:resident:restore", "住民記録の全件取込み（空の団体へのデータ移行）"
