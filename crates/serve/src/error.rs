//! Error responses: JSON `{code, message}` (and `rule` for a refusal), a stable code per
//! kind of failure, and a message that never holds personal data (every personnummer
//! masked, no value of the request quoted).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use planledger_app::Kind;
use serde::Serialize;

/// An error body.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable: `unauthenticated`, `forbidden`, `bad_input`, `rejected`, `not_found`,
    /// `conflict`, `storage`, `verification`, `unavailable`, `internal`.
    pub code: String,
    /// For people; no personal data.
    pub message: String,
    /// For `forbidden` and `rejected`: the rule that refused the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: &str) -> ApiError {
        ApiError {
            status,
            body: ErrorBody {
                code: code.to_owned(),
                message: planledger_plan::json::mask_personnummer(message),
                rule: None,
            },
        }
    }

    pub fn unauthenticated(message: &str) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    /// A refusal by the service's authorisation `rule`; nothing was written.
    pub fn forbidden(rule: &str, message: &str) -> ApiError {
        let mut e = ApiError::new(StatusCode::FORBIDDEN, "forbidden", message);
        e.body.rule = Some(rule.to_owned());
        e
    }

    pub fn bad_input(message: &str) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_input", message)
    }

    pub fn not_found(message: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn unavailable(code: &str, message: &str) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
    }

    pub fn internal(message: &str) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl From<planledger_app::Error> for ApiError {
    fn from(e: planledger_app::Error) -> ApiError {
        if let planledger_app::Error::Rejected(r) = &e {
            // Who may give which command is the domain's rule; refused as any rule is.
            if r.rule() == "not_permitted" {
                return ApiError::forbidden("not_permitted", &e.to_string());
            }
            if r.rule() != "no_order" {
                let mut a =
                    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "rejected", &e.to_string());
                a.body.rule = Some(r.rule().to_owned());
                return a;
            }
        }
        let message = e.to_string();
        match e.kind() {
            Kind::BadInput => ApiError::bad_input(&message),
            Kind::NotFound => ApiError::not_found(&message),
            Kind::Conflict => ApiError::new(StatusCode::CONFLICT, "conflict", &message),
            Kind::Verification => {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "verification", &message)
            }
            Kind::Storage => {
                tracing::warn!(kind = "storage", "a storage operation failed");
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "storage", &message)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}
