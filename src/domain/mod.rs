//! Input parsed once into types that cannot hold an invalid value.

pub mod card_code;
pub mod codes;
pub mod identifying;
pub mod month;
pub mod report;

pub use card_code::{BatchNumber, CardCode, CardCodeError};
pub use codes::{Category, Channel, Listed, ReportStatus};
pub use month::Month;
pub use report::{FieldErrors, RawReport, Report};
