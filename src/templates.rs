//! Tera templates, compiled into the binary so the service runs from any directory.
//! Autoescaping is on for every `.html` template.

use tera::Tera;

macro_rules! embedded {
    ($($name:literal),+ $(,)?) => {
        &[$(($name, include_str!(concat!("../templates/", $name)))),+]
    };
}

const TEMPLATES: &[(&str, &str)] = embedded!(
    "base.html",
    "entry.html",
    "thanks.html",
    "outcomes.html",
    "message.html",
    "cards.html",
    "staff/base.html",
    "staff/login.html",
    "staff/setup.html",
    "staff/setup_done.html",
    "staff/enrol.html",
    "staff/enrolled.html",
    "staff/batches.html",
    "staff/accounts.html",
    "staff/desks.html",
    "staff/districts.html",
    "staff/team.html",
    "staff/rotated.html",
    "staff/recovery.html",
    "staff/lists.html",
    "staff/audit.html",
    "staff/stats.html",
    "staff/settings.html",
    "staff/password.html",
    "staff/second_factor.html",
    "staff/cases.html",
    "staff/case.html",
    "staff/case_form.html",
    "staff/list.html",
    "staff/schedule.html",
    "staff/reports.html",
    "staff/report.html",
    "staff/confirm.html",
);

/// All templates, parsed once.
pub fn load() -> Result<Tera, tera::Error> {
    let mut tera = Tera::default();
    tera.add_raw_templates(TEMPLATES.iter().copied())?;
    tera.autoescape_on(vec![".html"]);
    Ok(tera)
}

#[cfg(test)]
mod tests {
    #[test]
    fn all_templates_parse() {
        super::load().unwrap();
    }
}
