//! The one mapping of staff-side failures to HTTP. The user sees a short, opaque message;
//! the log gets the cause (ids only, never report content).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::desk::DeskError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("login required")]
    LoginRequired,
    #[error("a second factor must be set up first")]
    SecondFactorDue,
    #[error("not allowed for this role")]
    Forbidden,
    #[error("this investigator has not been granted the desk key yet")]
    NotGranted,
    #[error("the form was not sent from this site (CSRF check failed)")]
    Csrf,
    #[error("not found")]
    NotFound,
    #[error("the desk key was rotated")]
    Rotated,
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for StaffError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => StaffError::NotFound,
            e => StaffError::Internal(e.to_string()),
        }
    }
}

impl From<DeskError> for StaffError {
    fn from(e: DeskError) -> Self {
        match e {
            DeskError::Rotated => StaffError::Rotated,
            DeskError::NotGranted => StaffError::NotGranted,
            DeskError::Store(e) => e.into(),
            e => StaffError::Internal(e.to_string()),
        }
    }
}

impl From<actix_web::error::BlockingError> for StaffError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        StaffError::Internal(e.to_string())
    }
}

impl ResponseError for StaffError {
    fn status_code(&self) -> StatusCode {
        match self {
            StaffError::LoginRequired | StaffError::SecondFactorDue => StatusCode::SEE_OTHER,
            StaffError::Forbidden | StaffError::NotGranted | StaffError::Csrf => {
                StatusCode::FORBIDDEN
            }
            StaffError::NotFound => StatusCode::NOT_FOUND,
            StaffError::Rotated => StatusCode::CONFLICT,
            StaffError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            StaffError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let text = match self {
            StaffError::LoginRequired => {
                return HttpResponse::SeeOther()
                    .insert_header(("Location", "/staff/login"))
                    .finish()
            }
            StaffError::SecondFactorDue => {
                return HttpResponse::SeeOther()
                    .insert_header(("Location", super::second_factor::PATH))
                    .finish()
            }
            StaffError::Forbidden => "您的账号没有这项权限。",
            StaffError::NotGranted => {
                "您还没有获得调查组密钥的授权，暂时不能阅读反映。请另一位调查人员在“团队”页面为您授权，然后重新登录。"
            }
            StaffError::Csrf => "表单已失效，请返回后刷新页面再提交。",
            StaffError::NotFound => "没有找到。",
            StaffError::Rotated => {
                "调查组密钥已经更换，您这次登录时解开的旧密钥已不能用。请退出后重新登录。"
            }
            StaffError::Invalid(message) => message,
            StaffError::Internal(cause) => {
                tracing::error!(cause = %cause, "staff request failed");
                "服务出错了，请稍后再试。"
            }
        };
        HttpResponse::build(self.status_code())
            .content_type("text/html; charset=utf-8")
            .body(format!(
                "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>减负码</title>\
                 <link rel=\"stylesheet\" href=\"/static/staff.css\"><main class=\"narrow\">\
                 <h1>{}</h1><p>{text}</p><p><a href=\"/staff/\">返回</a></p></main></html>",
                self.status_code().as_u16()
            ))
    }
}
