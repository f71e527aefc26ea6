"""Texts of the owned area: key -> (Japanese, English). See watcher/core/texts/__init__.py."""

from __future__ import annotations

from typing import Final

TEXTS: Final[dict[str, tuple[str, str]]] = {
    # notes of a check run (checks.CheckRun.note): the job's summary, shown in the dashboard and the CLI
    "owned.note": ("{check}: {note}", "{check}: {note}"),
    "owned.note.undecided": ("{subject}: 判定できませんでした（{error}）。開いている指摘はそのままです",
                             "{subject}: could not decide ({error}); any open finding stays as it is"),
    "owned.note.no_answer": ("応答なし", "no answer"),
    "owned.note.crashed": ("チェックが異常終了しました（{error}）。他のチェックの結果は有効です",
                           "the check crashed ({error}); the other checks' results stand"),
    "owned.note.no_expiry": ("{domain}: レジストリが有効期限を返しませんでした",
                             "{domain}: the registry gave no expiry date"),
    "owned.note.locks_unpublished": (
        "{domain}: レジストリのWHOISはロック状態を公開していません。レジストラで確認してください",
        "{domain}: the registry's WHOIS does not publish locks; check them at the registrar"),
    "owned.note.fetch_failed": ("{host}: ページを取得できませんでした（{error}）。判定は次回に持ち越します",
                                "{host}: the page could not be fetched ({error}); decided on the next run"),
    "owned.note.official_list_http": ("{page}: 公式一覧ページが HTTP {status} を返しました",
                                      "{page}: the official list page answered HTTP {status}"),
    "owned.note.smime_no_samples": ("{folder}: 確認する .eml のサンプルがありません",
                                    "{folder}: no .eml samples to check"),
    "owned.note.axfr_failed": ("ゾーン転送に失敗しました（{error}）", "zone transfer failed ({error})"),
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
    "owned.takeover.possible.title": (
        "{host} は {service} 上の削除済みリソースを指している可能性があります（乗っ取りの可能性・要確認）",
        "{host} may point to a released {service} resource (possible subdomain takeover, verify)"),
    "owned.takeover.possible.detail": (
        "CNAME: {chain}。{service} が自社のエラーページ（HTTP {status}）を返し、当社の内容（ブランド名等）が"
        "ありません。サービスの「未使用」ページの文言とは一致しないため確度は低（要確認）です（{sources}）。"
        "{service} の管理画面でこのホスト名が当社のリソースに割り当てられているか確認し、使っていなければ"
        "レコードを削除してください。",
        "Chain: {chain}. {service} answers with an error page of its own (HTTP {status}) and none of our "
        "content (brand names, keywords). The page does not carry the service's known \"unclaimed\" words, "
        "so confidence is low: verify (signature from {sources}). Check in {service}'s console that this host "
        "name is still attached to a resource of ours; if it is not in use, remove the record."),
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
    # registration life cycle (registration.py)
    "owned.the_registrar": ("レジストラ", "the registrar"),
    "owned.registration_missing.title": ("{domain} が登録されていません", "{domain} is not registered"),
    "owned.registration_missing.detail": (
        "レジストリにこのドメインの記録がありません（失効または削除）。第三者が今すぐ取得し、当社名義でメールを受信し"
        "サイトを公開できます（ドロップキャッチ）。直ちに再登録してください。",
        "The registry has no record of this domain: it expired or was deleted. Anyone can register it now and "
        "receive our mail and serve pages under our name (drop-catch). Register it again at once."),
    "owned.registration_recreated.title": ("{domain} が削除後に再登録されています",
                                           "{domain} was deleted and registered again"),
    "owned.registration_recreated.detail": (
        "前回確認時の登録日は {before}、現在は {after}（{registrar}）。当社が再登録したのでなければ、第三者が当社の"
        "ドメインを取得し、メールとサイトを支配しています。当社による再登録ならこの指摘を承認してください。",
        "Created {before} when we last saw it, now {after} at {registrar}. If the firm did not re-register it, "
        "someone drop-caught our own domain and controls its mail and web. If it was us, accept this finding."),
    "owned.expiry.expired.title": ("{domain} は {when} に期限切れです", "{domain} expired on {when}"),
    "owned.expiry.soon.title": ("{domain} の有効期限まで残り{days}日（{when}）",
                                "{domain} expires in {days} days ({when})"),
    "owned.expiry.detail": (
        "{registrar} で更新するか、自動更新を設定してください。失効したドメインは数日でドロップキャッチされ、当社の"
        "名前でフィッシングに使われます。",
        "Renew at {registrar} (or enable auto-renew). A lapsed domain is re-registered by drop-catchers within "
        "days and used for phishing with our own name."),
    "owned.lock.title": ("{domain} に {status} がありません", "{domain} lacks “{status}”"),
    "owned.lock_transfer.detail": (
        "このロックがないと、レジストラのアカウントを奪った（またはレジストラを欺いた）第三者がドメインを他の"
        "レジストラへ移管し奪取できます。{registrar} に設定を依頼してください（可能ならレジストリロックも）。",
        "Without this lock someone who gets into the registrar account (or tricks the registrar) can move the "
        "domain to another registrar and take it. Ask {registrar} to set it (registry lock where offered)."),
    "owned.lock_update.detail": (
        "このロックがないと、ネームサーバーや連絡先が追加の手続きなしに書き換えられ、奪われたアカウントから全ホストを"
        "一度に乗っ取られます。{registrar} に設定を依頼してください（可能ならレジストリロックも）。",
        "Without this lock name servers and contacts can be changed without the extra registrar step, so a "
        "hijacked account can redirect every name at once. Ask {registrar} to set it (registry lock where "
        "offered)."),
    "owned.hold.title": ("{domain} が停止（{statuses}）されています", "{domain} is on hold ({statuses})"),
    "owned.hold.detail": (
        "停止中のドメインは名前解決されません。顧客が当社に到達できず、検索して偽サイトにたどり着く恐れがあります。"
        "レジストラに連絡してください。",
        "A domain on hold does not resolve: customers cannot reach us and may search for and find a lookalike. "
        "Contact the registrar."),
    "owned.dnssec.title": ("{domain} はDNSSEC未署名です", "{domain} is not signed with DNSSEC"),
    "owned.dnssec.detail": (
        "DNSSECがないと、キャッシュポイズニングで正規のホスト名のまま偽のログインページへ誘導される恐れがあります。"
        "ゾーンに署名し、レジストラでDSを公開してください。",
        "Without DNSSEC a poisoned resolver can send customers to a fake login page on our real name. Sign the "
        "zone and publish the DS at the registrar."),
    "owned.ns_changed.title": ("{domain} のネームサーバーが変更されました", "name servers of {domain} changed"),
    "owned.ns_changed.detail": (
        "変更前 {before}、現在 {now}。新しいサーバーの運用者はこのドメインのすべての名前（ログインページ、メール）に"
        "応答できます。意図しない変更ならレジストラのアカウントが乗っ取られた可能性があります。計画どおりなら "
        "`omamori inventory accept-ns {domain}` を実行してください。",
        "Was {before}; now {now}. Whoever runs the new servers answers for every name in the domain (login pages, "
        "mail). If nobody here made this change, the registrar account may be compromised. If it was planned: "
        "`omamori inventory accept-ns {domain}`."),
    # MX pointing at dead hosts (takeover.py)
    "owned.takeover_mx.title": ("{domain} のMXが存在しないホスト {hosts} を指しています",
                                "MX of {domain} points to dead host(s) {hosts}"),
    "owned.takeover_mx.detail": (
        "{domains} を取得した（またはメール事業者でそのホストを取得した）第三者が、このドメイン宛てのメール（パスワード"
        "再設定メールを含む）を受信し、それを信頼するSPF/DKIM検査を通過できます。MXを修正してください。",
        "Whoever registers {domains} (or claims the host at its mail provider) receives mail sent to this domain "
        "— password resets included — and can pass SPF/DKIM checks that trust it. Fix the MX records."),
    # zone files and the published list of official domains
    "owned.zonefile_unreadable.title": ("ゾーンファイル {file} を読めません", "zone file {file} cannot be read"),
    "owned.zonefile_unreadable.detail": (
        "{path}: {error}。このファイルだけが知る名前は台帳に入らず、その放置レコードは検査されません。",
        "{path}: {error}. Names only this file knows are not inventoried, so their dangling records go "
        "unchecked."),
    "owned.official_list_extra.title": ("公式ドメイン一覧に当社のものでない {name} が掲載されています",
                                        "the published official-domains list names {name}, which is not ours"),
    "owned.official_list_extra.title_lapsed": (
        "公式ドメイン一覧に、当社がすでに手放した {name} が掲載されています",
        "the published official-domains list names {name}, which is not ours any more"),
    "owned.official_list_extra.detail": (
        "{page} は顧客に {name} を信頼するよう伝えています。取得した第三者がその信頼を悪用できます（ドロップキャッチ）。"
        "直ちにページから削除してください。",
        "{page} tells customers to trust {name}. Whoever registers it can use that trust (drop-catch). Remove it "
        "from the page now."),
    "owned.official_list_missing.title": ("公式ドメイン一覧に {name} がありません",
                                          "the published official-domains list misses {name}"),
    "owned.official_list_missing.detail": (
        "一覧のドメインだけを信頼するよう伝えられた顧客は、{name} の正規のメールやページをフィッシングと見なします。"
        "{page} に追記してください。",
        "Customers told to trust only the listed domains will take genuine mail or pages on {name} for "
        "phishing. Add it to {page}."),
    # drop-catch of lapsed domains (dropcatch.py)
    "owned.dropcatch.title": ("手放したドメイン {domain} が第三者に再登録されました",
                              "lapsed domain {domain} was re-registered"),
    "owned.dropcatch.detail": (
        "{why}。新しい保有者は旧ドメインへの信頼（古いメールやブックマークのリンク、このドメイン宛てのメール）を"
        "引き継ぎます。候補として取得・確認し、フィッシングかどうかを調べます。",
        "{why}. The new holder inherits the trust of our old name: links in old mails and bookmarks, and mail "
        "addressed to it. It is now a candidate and will be captured and checked for phishing."),
    "owned.dropcatch.winding_down": ("まだ失効手続き中です（{statuses}）", "still winding down ({statuses})"),
    "owned.dropcatch.still_ours": ("当社の旧登録のままです", "still our old registration"),
    "owned.dropcatch.registered_on": ("{date} に再登録", "registered again on {date}"),
    "owned.dropcatch.registrar": ("レジストラ {registrar}", "registrar {registrar}"),
    "owned.dropcatch.was_available": ("以前の確認時には取得可能でした", "it was available at an earlier check"),
    "owned.dropcatch.dns_answers": ("DNSが応答しています", "DNS answers for it"),
    "owned.dropcatch.dns_answers_lookup_failed": ("DNSが応答しています（登録情報の照会に失敗: {error}）",
                                                  "DNS answers for it (registration lookup failed: {error})"),
    "owned.dropcatch.registered": ("レジストリに登録済みと記載されています", "the registry lists it as registered"),
    # --- how an owned domain came to be known (OwnedSource), as a person reads it (the terminal and the dashboard)
    "owned.source.config": ("設定", "config"),
    "owned.source.dns": ("DNS", "DNS"),
    "owned.source.ct": ("CT ログ", "CT log"),
    "owned.source.zonefile": ("ゾーンファイル", "zone file"),
    "owned.source.axfr": ("ゾーン転送（AXFR）", "zone transfer (AXFR)"),
    "owned.source.lapsed": ("失効", "lapsed"),
}
