//! The options of a closed vocabulary (category, channel, …) as templates list them.

use serde::Serialize;

#[derive(Serialize)]
pub struct Choice {
    pub code: &'static str,
    pub label: &'static str,
    /// A line of example, where the page shows one.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub example: &'static str,
}

/// Every value of a vocabulary, in order.
pub fn options<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<Choice> {
    all.iter()
        .map(|&v| Choice {
            code: code(v),
            label: label(v),
            example: "",
        })
        .collect()
}
