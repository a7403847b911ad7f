//! The closed vocabularies of a report (SPEC §3.2): each a code on the wire and a label on
//! the page.

use serde::{Deserialize, Serialize};

/// Declares an enum whose variants each have a wire code and a Chinese label, with
/// `parse`, `code`, `label` and `ALL`.
macro_rules! coded_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $code:literal, $label:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "&'static str")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn parse(code: &str) -> Option<$name> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }

            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                $name::parse(&s).ok_or_else(|| format!("unknown {} `{s}`", stringify!($name)))
            }
        }

        impl From<$name> for &'static str {
            fn from(v: $name) -> &'static str { v.code() }
        }
    };
}

coded_enum!(
    /// What kind of burden the report is about.
    Category {
        OutsideList => "outside_list", "清单外或属地转嫁事项";
        Verbal => "verbal", "口头或便函布置（绕开准入）";
        Certificate => "certificate", "违规要求出具证明或盖章";
        Forms => "forms", "重复填表报数、多头台账";
        Inspection => "inspection", "督查检查考核、迎检过多";
        Apps => "apps", "工作群、政务APP、打卡（指尖上的形式主义）";
        Photos => "photos", "拍照留痕";
        Plaques => "plaques", "挂牌上墙";
        Meetings => "meetings", "会议文件过多";
        Campaigns => "campaigns", "创建示范、达标活动";
        Secondment => "secondment", "借调基层人员";
        Other => "other", "其他";
    }
);

impl Category {
    /// One line of example, shown on the entry page.
    pub fn example(self) -> &'static str {
        match self {
            Category::OutsideList => "不在准入清单上的工作，或把部门自己的职责转给村（社区）。",
            Category::Verbal => "电话、微信群、当面交代的任务，没有经过准入审核。",
            Category::Certificate => "要求开具已取消的证明，如生活困难证明、未享受保障性住房证明。",
            Category::Forms => "同一组数据反复报、多个部门各要一套台账。",
            Category::Inspection => "检查考核名目多、频次高，迎检材料层层加码。",
            Category::Apps => "工作群里要求随时回复、每天打卡、多个APP重复登录。",
            Category::Photos => "每项工作都要求拍照、录像留痕。",
            Category::Plaques => "要求在村（社区）挂牌、上墙、设专门场所。",
            Category::Meetings => "会议多、文件多，要求村干部陪会。",
            Category::Campaigns => "各类示范创建、达标评比摊派到村（社区）。",
            Category::Secondment => "抽调村（社区）干部到上级部门帮忙。",
            Category::Other => "以上都不是，但属于不合理的派活。",
        }
    }
}

coded_enum!(
    /// How the task reached the reporter.
    Channel {
        Oral => "oral", "当面口头布置";
        Phone => "phone", "电话";
        ChatGroup => "chat_group", "工作群、聊天软件";
        Document => "document", "文件、便函、通知";
        App => "app", "政务APP、系统";
        Other => "other", "其他";
    }
);

coded_enum!(
    /// Whether the task was on the admission list (准入清单).
    Listed {
        Yes => "yes", "在清单内";
        No => "no", "不在清单内";
        Unsure => "unsure", "不清楚";
    }
);

coded_enum!(
    /// Triage status of a released report, set by investigators.
    ReportStatus {
        New => "new", "新收";
        Investigating => "investigating", "核查中";
        Substantiated => "substantiated", "属实";
        Partly => "partly", "部分属实";
        Unsubstantiated => "unsubstantiated", "不属实";
        Rejected => "rejected", "不予受理";
        Duplicate => "duplicate", "重复";
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.code()), Some(*c));
        }
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.code()), Some(*c));
        }
        assert_eq!(Category::ALL.len(), 12);
        assert_eq!(Channel::ALL.len(), 6);
        assert_eq!(Category::parse("OUTSIDE_LIST"), None);
        assert_eq!(Listed::parse("maybe"), None);
    }

    #[test]
    fn serde_uses_the_wire_codes() {
        let json = serde_json::to_string(&Channel::ChatGroup).unwrap();
        assert_eq!(json, "\"chat_group\"");
        let back: Channel = serde_json::from_str(&json).unwrap();
        assert_eq!(back, Channel::ChatGroup);
    }
}
