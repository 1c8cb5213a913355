//! The API Gateway page at `/_sim/`: server-rendered HTML, no JavaScript.
//!
//! It shows the apps ("My Apps & Tokens"), a "+ Add Apps & Token" form, a
//! per-app "Add Token" form, and the token list with state badges, a
//! "Download Token" link and a "Revoke" button. The forms post to
//! `/_sim/ui/...`, which act through the same model as the JSON endpoints
//! and answer `303 See Other` back to the page (or the page with an error
//! banner and status 400/404/409).

use std::fmt::Write as _;

use crate::gateway::{GatewayError, TokenInfo, TokenStatus};
use crate::http::{Request, Response};
use crate::params::Params;
use crate::shared::Shared;

/// Escapes text for HTML element content and quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn when(ms: u64) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp((ms / 1000) as i64)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_default()
}

fn badge(status: TokenStatus) -> String {
    let class = match status {
        TokenStatus::Active => "ok",
        TokenStatus::AccessExpired => "warn",
        TokenStatus::Expired => "muted",
        TokenStatus::Revoked => "bad",
    };
    format!(
        r#"<span class="badge {class}" data-status="{}">{}</span>"#,
        serde_json::to_value(status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        status.label()
    )
}

const STYLE: &str = r#"
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f4f6f8;color:#1f2933}
header{background:#01a982;color:#fff;padding:14px 28px;font-size:18px;font-weight:600}
header small{font-weight:400;opacity:.85;margin-left:8px}
main{max-width:1180px;margin:24px auto;padding:0 24px}
h2{font-size:16px;margin:28px 0 10px;color:#323f4b}
.card{background:#fff;border:1px solid #dde3ea;border-radius:6px;overflow:hidden}
table{border-collapse:collapse;width:100%;font-size:14px}
th{background:#f0f3f6;text-align:left;font-weight:600;color:#52606d;padding:9px 12px;border-bottom:1px solid #dde3ea}
td.when{white-space:nowrap}
td{padding:9px 12px;border-bottom:1px solid #eef1f4;vertical-align:middle}
tr:last-child td{border-bottom:none}
code{font-family:ui-monospace,Menlo,monospace;font-size:12px;background:#f0f3f6;padding:2px 5px;border-radius:3px}
.badge{display:inline-block;padding:2px 9px;border-radius:10px;font-size:12px;font-weight:600}
.ok{background:#d9f5ec;color:#0b7a5c}.warn{background:#fff1d6;color:#8a5a00}
.bad{background:#fde2e1;color:#b42318}.muted{background:#e4e7eb;color:#52606d}
.sub{color:#7b8794;font-size:12px}
button,.btn{white-space:nowrap;font:inherit;font-size:13px;border-radius:4px;padding:5px 12px;cursor:pointer;text-decoration:none;display:inline-block}
.primary{background:#01a982;color:#fff;border:1px solid #01a982}
.secondary{background:#fff;color:#1f2933;border:1px solid #9aa5b1}
.danger{background:#fff;color:#b42318;border:1px solid #e8a39e}
input[type=text]{font:inherit;font-size:13px;padding:5px 8px;border:1px solid #cbd2d9;border-radius:4px;width:150px}
details.add{margin:10px 0}
details.add summary{list-style:none;display:inline-block}
details.add summary::-webkit-details-marker{display:none}
details.add form{margin-top:10px;background:#fff;border:1px solid #dde3ea;border-radius:6px;padding:14px;display:flex;gap:10px;align-items:center}
.error{background:#fde2e1;color:#b42318;border:1px solid #f5b5b0;border-radius:6px;padding:10px 14px;margin-top:16px}
.actions{display:flex;gap:8px;align-items:center}
.actions form{margin:0}
"#;

fn token_row(out: &mut String, t: &TokenInfo) {
    let id = esc(&t.id);
    let actions = if t.revoked {
        format!(
            r#"<span class="sub">revoked {}</span>"#,
            when(t.revoked_at.unwrap_or_default())
        )
    } else {
        let download = if t.status == TokenStatus::Expired {
            String::new()
        } else {
            format!(
                r#"<a class="btn secondary" href="/_sim/tokens/{id}/download" download>Download Token</a>"#
            )
        };
        format!(
            r#"{download}<form method="post" action="/_sim/ui/tokens/{id}/revoke"><button class="danger" type="submit">Revoke</button></form>"#
        )
    };
    let refreshed = if t.refresh_used {
        format!(
            r#" <span class="badge muted">refreshed {}×</span>"#,
            t.refreshes
        )
    } else {
        String::new()
    };
    let _ = write!(
        out,
        r#"<tr data-token-id="{id}" data-token-name="{name}"><td><strong>{name}</strong><div class="sub"><code>{id}</code></div></td><td>{app}</td><td>{user}</td><td class="when">{created}</td><td class="when">{expires}</td><td>{badge}{refreshed}</td><td><div class="actions">{actions}</div></td></tr>"#,
        name = esc(&t.name),
        app = esc(&t.app),
        user = esc(&t.user),
        created = when(t.created_at),
        expires = when(t.expires_at),
        badge = badge(t.status),
    );
}

/// Renders the whole page, with an optional error banner.
pub fn render(shared: &Shared, error: Option<&str>) -> String {
    let apps = shared.apps();
    let tokens = shared.tokens(None).unwrap_or_default();
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>API Gateway · central-sim</title><style>{STYLE}</style></head><body><header>API Gateway<small>HPE Aruba Networking Central simulator</small></header><main>"#
    );
    if let Some(e) = error {
        let _ = write!(out, r#"<div class="error" role="alert">{}</div>"#, esc(e));
    }
    out.push_str(r#"<h2>My Apps &amp; Tokens</h2>"#);
    out.push_str(
        r#"<details class="add"><summary class="btn primary">+ Add Apps &amp; Token</summary><form method="post" action="/_sim/ui/apps"><label>Application name <input type="text" name="name" required pattern="[A-Za-z0-9._\-]{1,64}"></label><label>Token name <input type="text" name="token_name" pattern="[A-Za-z0-9._\-]{1,64}"></label><button class="primary" type="submit">Generate</button></form></details>"#,
    );
    out.push_str(r#"<div class="card"><table id="apps"><thead><tr><th>Name</th><th>Client ID</th><th>Client Secret</th><th>Application</th><th>Created At</th><th>Tokens</th><th></th></tr></thead><tbody>"#);
    for a in &apps {
        let name = esc(&a.name);
        let _ = write!(
            out,
            r#"<tr data-app="{name}"><td><strong>{name}</strong></td><td><code>{cid}</code></td><td><code>{secret}</code></td><td>Network Operations <span class="sub">({application})</span></td><td class="when">{created}</td><td>{tokens}</td><td><form method="post" action="/_sim/ui/apps/{name}/tokens" class="actions"><input type="text" name="name" placeholder="token name" pattern="[A-Za-z0-9._\-]{{1,64}}"><button class="secondary" type="submit">Add Token</button></form></td></tr>"#,
            cid = esc(&a.client_id),
            secret = esc(&a.client_secret),
            application = esc(&a.application),
            created = when(a.created_at),
            tokens = a.tokens,
        );
    }
    out.push_str("</tbody></table></div>");
    out.push_str(r#"<h2>Token List</h2><div class="card"><table id="tokens"><thead><tr><th>Token Name</th><th>App</th><th>User Name</th><th>Generated At</th><th>Access Expires</th><th>State</th><th></th></tr></thead><tbody>"#);
    if tokens.is_empty() {
        out.push_str(r#"<tr><td colspan="7" class="sub">No tokens yet: use “+ Add Apps &amp; Token” or “Add Token”.</td></tr>"#);
    }
    for t in tokens.iter().rev() {
        token_row(&mut out, t);
    }
    out.push_str("</tbody></table></div></main></body></html>");
    out
}

fn html(status: u16, body: String) -> Response {
    Response {
        status,
        headers: vec![(
            "Content-Type".to_string(),
            "text/html; charset=utf-8".to_string(),
        )],
        body: body.into_bytes(),
    }
}

fn back() -> Response {
    Response::json(303, "").with_header("Location", "/_sim/")
}

fn outcome<T>(shared: &Shared, r: Result<T, GatewayError>) -> Response {
    match r {
        Ok(_) => back(),
        Err(e) => html(e.status(), render(shared, Some(&e.to_string()))),
    }
}

/// Handles the page and its form posts; `None` for other paths.
pub fn handle(shared: &Shared, req: &Request) -> Option<Response> {
    let path = req.path.as_str();
    if req.method == "GET" && (path == "/_sim" || path == "/_sim/") {
        return Some(html(200, render(shared, None)));
    }
    let rest = path.strip_prefix("/_sim/ui/")?;
    if req.method != "POST" {
        return None;
    }
    let params = Params::from_request(req);
    let opt = |k: &str| params.get(k).filter(|v| !v.is_empty()).map(str::to_string);
    let parts: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let resp = match parts.as_slice() {
        ["apps"] => {
            let name = opt("name").unwrap_or_default();
            outcome(
                shared,
                shared.create_app(&name, opt("token_name").as_deref()),
            )
        }
        ["apps", app, "tokens"] => outcome(shared, shared.add_token(app, opt("name").as_deref())),
        ["tokens", id, "revoke"] => outcome(shared, shared.revoke_token(id)),
        _ => return None,
    };
    Some(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc(r#"<a href="x">'&"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;"
        );
    }

    #[test]
    fn formats_ms() {
        assert_eq!(when(784_111_777_000), "1994-11-06 08:49 UTC");
    }
}
