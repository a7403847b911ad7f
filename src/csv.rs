//! Minimal CSV output (RFC 4180 quoting) for card and report exports.

/// One CSV record, each field quoted when it needs to be.
pub fn record<'a>(fields: impl IntoIterator<Item = &'a str>) -> String {
    let mut line = String::new();
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        if f.contains([',', '"', '\n', '\r']) {
            line.push('"');
            line.push_str(&f.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(f);
        }
    }
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(super::record(["a", "b c"]), "a,b c\r\n");
        assert_eq!(
            super::record(["x,y", "say \"hi\"\n"]),
            "\"x,y\",\"say \"\"hi\"\"\n\"\r\n"
        );
    }
}
