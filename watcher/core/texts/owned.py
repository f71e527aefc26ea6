"""Texts of the owned area: key -> (Japanese, English). See watcher/core/texts/__init__.py."""

from __future__ import annotations

from typing import Final

TEXTS: Final[dict[str, tuple[str, str]]] = {
    # takeover (engine v2, data/takeover-signatures.json)
    "owned.takeover.unclaimed.title": (
        "{host} は {service} 上の未使用リソースを指しています（乗っ取り可能）",
        "{host} points to an unclaimed {service} resource (subdomain takeover)"),
    "owned.takeover.unclaimed.detail": (
        "CNAME／アドレス: {chain}。証拠: {proof}（HTTP {status}）。{service} のアカウントを持つ第三者がこのリソースを"
        "取得し、当社のホスト名でフィッシングページを公開できます。確度: {confidence}（{sources}）。"
        "レコードを削除するか、リソースを取り戻してください。",
        "Chain: {chain}. Evidence: {proof} (HTTP {status}). Anyone with an account at {service} can claim this "
        "resource and publish pages, or receive mail and certificates, under our host name. Confidence: "
        "{confidence} (signature from {sources}). Remove the record or claim the resource back."),
    "owned.takeover.nxdomain.title": (
        "{host} のCNAME先 {target}{service} が存在しません",
        "CNAME of {host} points to {target}{service}, which does not exist"),
    "owned.takeover.nxdomain.detail": (
        "CNAME: {chain}（NXDOMAIN）。{available}{attack}レコードを削除するか、リソースを再作成してください。",
        "CNAME chain: {chain} (NXDOMAIN). {available}{attack}Remove the record or re-create the resource."),
    "owned.takeover.available": ("現在だれでも取得可能です。",
                                 "The registry says it is not registered: anyone can register it today. "),
    "owned.takeover.attack_service": (
        "{service} のアカウントを持つ第三者がこの名前を作成し、当社のホスト名で任意の内容を公開できます。",
        "Anyone with an account at {service} can create this name and serve any content — a login page "
        "included — under our host name. "),
    "owned.takeover.attack_domain": (
        "{domain} を第三者が取得すると、当社のホスト名で任意の内容（偽ログインページ等）を公開できます。",
        "If {domain} can be registered, whoever registers it serves any content — a login page included — "
        "under our name. "),
    "owned.takeover_ns.title": ("{zone} の委任先ネームサーバーが不正です", "NS delegation of {zone} is dangling"),
    "owned.takeover_ns.dead": (
        "存在しないネームサーバー {hosts}：{domains} を取得した第三者がゾーン全体を乗っ取れます",
        "name server(s) {hosts} do not exist: whoever registers {domains} answers for this zone and can point "
        "every name in it anywhere, issue certificates and receive mail"),
    "owned.takeover_ns.both": ("{a}。{b}", "{a}; {b}"),
    "owned.takeover_ns.lame": (
        "ゾーンが応答しません（{rcode}）：DNSサービス側で第三者がゾーンを作成すると乗っ取られます",
        "the zone does not answer ({rcode}): if the DNS provider account was closed, someone else can create "
        "the zone there and take over every name in it"),
    "owned.takeover_ns.provider": (
        "{service} のネームサーバーがこのゾーンを拒否しています（{rcode}）：{service} のアカウントを持つ第三者がゾーンを作成すると、"
        "ゾーン内の全ホストを乗っ取れます",
        "{service}'s name servers refuse this zone ({rcode}): anyone with a {service} account can create the "
        "zone there and take over every name in it"),
    # dangling A/AAAA (data/cloud-ranges.json)
    "owned.dangling_address.title": (
        "{host} のアドレス {address}（{provider}）は当社のサービスとして応答していません",
        "{host} points at {address} ({provider}), which no longer answers as our service"),
    "owned.dangling_address.detail": (
        "{address} は {provider} の公開アドレス範囲 {prefix} にあります。{answer}解放されたクラウドのアドレスは他の利用者に"
        "再割り当てされ、当社のホスト名でその利用者の内容が表示されます。レコードを削除するか、アドレスを確認してください。",
        "{address} is in {provider}'s published range {prefix}. {answer}A released cloud address is handed to "
        "the provider's next customer, who then serves their content under our host name. Remove the record "
        "or confirm the address is still ours."),
    "owned.dangling_address.no_answer": ("HTTP/HTTPS とも応答がありません（{error}）。",
                                         "Neither HTTP nor HTTPS answers ({error}). "),
    "owned.dangling_address.foreign": (
        "応答（HTTP {status}）に当社のブランド名・ドメインがありません。",
        "It answers (HTTP {status}), but the page names neither our brand nor our domains. "),
    # CAA
    "owned.caa.missing.title": ("{domain} にCAAレコードがありません", "{domain} has no CAA record"),
    "owned.caa.missing.detail": (
        "CAAがないと、どの認証局でも {domain} の証明書を発行できます。当社が使う認証局（{allowed}）だけを"
        "issue/issuewild に記載してください。",
        "Without CAA any CA may issue certificates for {domain}. Publish issue/issuewild records naming only "
        "the CAs the firm uses ({allowed})."),
    "owned.caa.other.title": ("{domain} のCAAが当社の使わない認証局 {cas} を許可しています",
                              "CAA of {domain} allows a CA the firm does not use: {cas}"),
    "owned.caa.other.detail": (
        "CAA: {records}。当社が使う認証局は {allowed} です。許可された他の認証局から当社名義の証明書が発行され得ます。"
        "意図しない記載なら削除してください。",
        "CAA: {records}. The firm uses {allowed}; the other CA(s) listed may issue certificates for our names. "
        "Remove them unless someone here added them on purpose."),
    # registry lock
    "owned.lock_registry.title": ("{domain} にレジストリロックが設定されていません",
                                  "{domain} has no registry lock"),
    "owned.lock_registry.detail": (
        "レジストリは server transfer/update/delete prohibited を公開していますが、{domain} には {missing} がありません。"
        "レジストリロックがあれば、レジストラのアカウントを奪われてもレジストリでの本人確認なしに変更できません。"
        "{registrar} に申し込んでください。",
        "The registry publishes server transfer/update/delete prohibited statuses, and {domain} lacks {missing}. "
        "With a registry lock, a hijacked registrar account cannot change the domain without the registry's "
        "own out-of-band check. Ask {registrar} for it."),
    # certificates for our names (CT)
    "owned.cert_new_name.title": ("新しいホスト名 {name} の証明書が発行されました（{issuer}）",
                                  "certificate for a new name of ours: {name} ({issuer})"),
    "owned.cert_new_name.detail": (
        "CTログ {log} の {index} 番目。発行者 {issuer} は許可済みですが、{name} はこれまでの台帳にありませんでした。"
        "社内で作ったホストなら承認してください。心当たりがなければ、DNS またはCAアカウントの不正利用を調べてください。",
        "CT log {log}, entry {index}. The issuer {issuer} is allowed, but {name} was never in the inventory "
        "before. If someone here set it up, accept this finding; if not, look for misuse of our DNS or CA account."),
    "owned.cert_new_issuer.title": ("{apex} に初めて {issuer} の証明書が発行されました",
                                    "first certificate for {apex} from {issuer}"),
    "owned.cert_new_issuer.detail": (
        "{name} の証明書（CTログ {log} の {index} 番目）。{issuer} は許可された認証局ですが、当社のドメインに"
        "発行したのは初めてです。",
        "Certificate for {name} (CT log {log}, entry {index}). {issuer} is an allowed CA, but it never issued "
        "for our domains before."),
    "owned.cert_issuer.title": ("{name} の証明書が想定外の認証局 {issuer} から発行されました",
                                "certificate for {name} from an unexpected issuer: {issuer}"),
    "owned.cert_issuer.detail": (
        "CTログ {log} の {index} 番目（{names}）。当社が使う認証局ではありません。第三者が当社名義の証明書を"
        "取得した可能性があります：発行元に失効を依頼し、DNSとCAAを確認してください。",
        "CT log {log}, entry {index} ({names}). This is not a CA the firm uses: someone may hold a certificate "
        "for our name. Ask the CA to revoke it and check our DNS and CAA."),
}
