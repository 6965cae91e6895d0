//! What a non-2xx answer means: a status Ollama never sends (401/403), a route the
//! server's release predates (404 that names no model), or Ollama's own refusal.

use super::error::{names_missing_model, Added};
use super::types::ErrorBody;
use super::{excerpt, ClientError, NextStep};

/// The first release whose `server/routes.go` registers each endpoint this client
/// calls, added after 0.1.0 (from the release tags of ollama/ollama).
const ADDED: &[(&str, &str)] = &[
    ("api/chat", "0.1.14"),
    ("api/version", "0.1.14"),
    ("v1/chat/completions", "0.1.24"),
    ("api/ps", "0.1.38"),
    ("v1/models", "0.2.0"),
    ("api/embed", "0.2.6"),
];

/// Endpoints of the 0.0.x releases (2023), which every server this tool meets has.
const ALWAYS: &[&str] = &[
    "",
    "api/tags",
    "api/show",
    "api/generate",
    "api/pull",
    "api/create",
    "api/delete",
    "api/embeddings",
];

/// Which release added the endpoint at `path` (`api/ps`, no leading slash).
pub fn added(path: &str) -> Added {
    let path = path.trim_matches('/');
    if let Some((_, release)) = ADDED.iter().find(|(p, _)| *p == path) {
        Added::In(release)
    } else if ALWAYS.contains(&path) {
        Added::Always
    } else {
        Added::Unknown
    }
}

/// The error for a non-2xx answer to `path`, from its status and body (if one was read).
pub(crate) fn refusal(
    endpoint: String,
    path: &str,
    status: u16,
    body: Option<&[u8]>,
) -> ClientError {
    // The body says why: Ollama's `{"error": ...}` (either shape), else an excerpt.
    let message = body
        .map(|b| {
            serde_json::from_slice::<ErrorBody>(b)
                .map(|e| e.message().to_string())
                .unwrap_or_else(|_| excerpt(b))
        })
        .filter(|m| !m.is_empty());
    match status {
        401 | 403 => ClientError::AuthRequired {
            endpoint,
            status,
            message,
            next: NextStep::default(),
        },
        404 if !message.as_deref().is_some_and(names_missing_model) => {
            ClientError::EndpointMissing {
                endpoint,
                message,
                added: added(path),
            }
        }
        _ => ClientError::Status {
            endpoint,
            status,
            message,
            next: NextStep::default(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn refused(path: &str, status: u16, body: &str) -> ClientError {
        let endpoint = format!("GET http://127.0.0.1:11434/{path}");
        refusal(endpoint, path, status, Some(body.as_bytes()))
    }

    /// Ollama's routes answer an unknown path with gin's plain "404 page not found".
    #[test]
    fn a_route_the_release_predates_names_the_release() {
        let e = refused("api/ps", 404, "404 page not found");
        assert_eq!(e.kind(), ErrorKind::EndpointMissing);
        assert!(matches!(
            e,
            ClientError::EndpointMissing {
                added: Added::In("0.1.38"),
                ..
            }
        ));
        assert!(matches!(
            refused("v1/models", 404, "404 page not found"),
            ClientError::EndpointMissing {
                added: Added::In("0.2.0"),
                ..
            }
        ));
        assert!(matches!(
            refused("api/tags", 404, "404 page not found"),
            ClientError::EndpointMissing {
                added: Added::Always,
                ..
            }
        ));
    }

    /// A missing model is Ollama's own 404, in either error shape.
    #[test]
    fn a_missing_model_stays_a_status() {
        let native = refused("api/show", 404, r#"{"error":"model 'x' not found"}"#);
        assert_eq!(native.kind(), ErrorKind::Status(404));
        let openai = refused(
            "v1/chat/completions",
            404,
            r#"{"error":{"message":"model \"x\" not found, try pulling it first","type":"not_found_error","param":null,"code":null}}"#,
        );
        assert_eq!(openai.kind(), ErrorKind::Status(404));
        assert!(openai.to_string().contains("try pulling it first"));
    }

    #[test]
    fn auth_statuses_are_not_the_servers() {
        for status in [401, 403] {
            let e = refused("api/ps", status, r#"{"error": "unauthorized"}"#);
            assert_eq!(e.kind(), ErrorKind::AuthRequired(status));
            assert!(e.is_foreign());
            let text = e.to_string();
            assert!(!text.contains("journalctl"), "{text}");
        }
    }
}
