//! P7: spots in a report's free text that look like they identify the reporter: mainland
//! mobile numbers, resident ID numbers (checksum-aware), e-mail addresses, WeChat ids, and
//! self-descriptions such as “我是…村的…”.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

/// One spot, with a little context for the warning.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Finding {
    pub field: &'static str,
    pub kind: &'static str,
    pub before: String,
    pub found: String,
    pub after: String,
}

static MOBILE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\+?86[\s\-]?)?1[3-9]\d(?:[\s\-]?\d){8}").expect("static pattern")
});
static ID_NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\d{6}(?:19|20)\d{9}[\dXx]").expect("static pattern"));
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
        .expect("static pattern")
});
/// A WeChat id after its usual prefix. The Latin prefixes (vx, wx, wechat) must begin a word
/// of Latin letters and digits, so that `Newxcourse` or `hwx123abc` is not taken for one;
/// Chinese text may stand right before them (“加wx：…”). The `regex` crate has no
/// look-behind, so the character before is matched and the id is capture group 1.
static WECHAT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:^|[^A-Za-z0-9_])((?:vx|wx|wechat)\s*[:：是为]?\s*[A-Za-z][A-Za-z0-9_\-]{5,19})|(微信号?\s*[:：是为]?\s*[A-Za-z][A-Za-z0-9_\-]{5,19})",
    )
    .expect("static pattern")
});
static SELF_DESCRIPTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:我是|我叫|我系|本人是|本人系|本人在|我在)[^，。,.;；！!？?\n]{0,15}?(?:村|社区|网格|居委会|村委会)[^，。,.;；！!？?\n]{0,8}")
        .expect("static pattern")
});

/// Finds identifying-looking spots in `text`, labelled with `field`.
pub fn scan(field: &'static str, text: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let digit_at = |i: usize| text[i..].chars().next().is_some_and(|c| c.is_ascii_digit());
    let digit_before = |i: usize| {
        text[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_digit())
    };
    for m in MOBILE.find_iter(text) {
        if !digit_before(m.start()) && !digit_at(m.end()) {
            out.push(finding(field, "手机号码", text, m.start(), m.end()));
        }
    }
    for m in ID_NUMBER.find_iter(text) {
        if !digit_before(m.start()) && !digit_at(m.end()) && id_checksum_ok(m.as_str()) {
            out.push(finding(field, "身份证号码", text, m.start(), m.end()));
        }
    }
    for m in EMAIL.find_iter(text) {
        out.push(finding(field, "电子邮箱", text, m.start(), m.end()));
    }
    for c in WECHAT.captures_iter(text) {
        if let Some(m) = c.get(1).or_else(|| c.get(2)) {
            out.push(finding(field, "微信号", text, m.start(), m.end()));
        }
    }
    for m in SELF_DESCRIPTION.find_iter(text) {
        out.push(finding(
            field,
            "自我介绍（单位、身份）",
            text,
            m.start(),
            m.end(),
        ));
    }
    out
}

/// GB 11643 check digit of an 18-character resident ID number.
fn id_checksum_ok(id: &str) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let b = id.as_bytes();
    if b.len() != 18 {
        return false;
    }
    let sum: u32 = b[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| (d - b'0') as u32 * w)
        .sum();
    CHECK[(sum % 11) as usize] == b[17].to_ascii_uppercase()
}

fn finding(
    field: &'static str,
    kind: &'static str,
    text: &str,
    start: usize,
    end: usize,
) -> Finding {
    const CONTEXT: usize = 8;
    let before: String = {
        let chars: Vec<char> = text[..start].chars().rev().take(CONTEXT).collect();
        chars.into_iter().rev().collect()
    };
    let after: String = text[end..].chars().take(CONTEXT).collect();
    Finding {
        field,
        kind,
        before,
        found: text[start..end].to_string(),
        after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<&'static str> {
        scan("body", text).into_iter().map(|f| f.kind).collect()
    }

    #[test]
    fn mobile_numbers_in_common_spellings() {
        for t in [
            "电话13812345678找我",
            "打138 1234 5678",
            "+86 138-1234-5678",
            "8613812345678",
        ] {
            assert_eq!(kinds(t), vec!["手机号码"], "{t}");
        }
        assert!(kinds("编号 213812345678999").is_empty());
        assert!(kinds("2026年10月开了12次会").is_empty());
    }

    #[test]
    fn id_numbers_need_a_valid_check_digit() {
        // A synthetic number with a correct GB 11643 check digit.
        assert_eq!(kinds("身份证11010519491231002X。"), vec!["身份证号码"]);
        assert!(kinds("身份证110105194912310021。").is_empty());
    }

    #[test]
    fn email_wechat_and_self_description() {
        assert_eq!(kinds("发到 zhang.san@example.com 吧"), vec!["电子邮箱"]);
        assert_eq!(kinds("加我微信：zhangsan_88"), vec!["微信号"]);
        assert_eq!(kinds("我是东风村的会计，"), vec!["自我介绍（单位、身份）"]);
        assert!(kinds("镇里要求每个村都交台账。").is_empty());
    }

    #[test]
    fn wx_and_vx_count_only_at_the_start_of_a_latin_word() {
        // Ordinary words and codes that merely contain the letters.
        for t in [
            "报名 Newxcourse 课程",
            "平台 Newxcourse123 上课",
            "编号 hwx123abc 的表",
            "DVXabcdefg",
            "mywechat_account",
        ] {
            assert!(kinds(t).is_empty(), "{t}: {:?}", kinds(t));
        }
        // Real ids: at the start, after Chinese text, after a space or punctuation.
        for (t, id) in [
            ("wx:zhangsan88", "wx:zhangsan88"),
            ("加wx：zhang_san88", "wx：zhang_san88"),
            ("有事 vx zhangsan88 联系", "vx zhangsan88"),
            ("（WX:Zhangsan88）", "WX:Zhangsan88"),
            ("wechat是lisi_2024", "wechat是lisi_2024"),
        ] {
            let found: Vec<String> = scan("body", t).into_iter().map(|f| f.found).collect();
            assert_eq!(found, vec![id.to_string()], "{t}");
        }
    }

    #[test]
    fn findings_carry_context() {
        let f = &scan("body", "请联系13812345678谢谢")[0];
        assert_eq!(f.before, "请联系");
        assert_eq!(f.found, "13812345678");
        assert_eq!(f.after, "谢谢");
    }
}
