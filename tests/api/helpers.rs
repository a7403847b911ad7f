//! Spawns the real `jianfu` binary on a random port with a temporary data dir, and talks
//! HTTP to it like a browser would.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const INVESTIGATOR: &str = "desk1";
pub const INVESTIGATOR_PASSWORD: &str = "investigator password 1";
pub const ADMIN: &str = "admin1";
pub const ADMIN_PASSWORD: &str = "admin password 12";

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_jianfu")
}

/// A running server and its data dir; killed on drop.
pub struct TestApp {
    pub url: String,
    pub dir: tempfile::TempDir,
    pub env: Vec<(String, String)>,
    child: Option<Child>,
    /// Everything the server printed, stdout and stderr.
    pub output: Arc<Mutex<String>>,
    pub agent: ureq::Agent,
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HashMap<String, Vec<String>>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .and_then(|v| v.first())
            .map(String::as_str)
    }
}

fn read(result: Result<ureq::Response, ureq::Error>) -> Resp {
    let resp = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("request failed: {e}"),
    };
    let mut headers: HashMap<String, Vec<String>> = HashMap::new();
    for name in resp.headers_names() {
        let values = resp.all(&name).iter().map(|s| s.to_string()).collect();
        headers.insert(name.to_ascii_lowercase(), values);
    }
    let status = resp.status();
    let mut body = String::new();
    resp.into_reader().read_to_string(&mut body).ok();
    Resp {
        status,
        headers,
        body,
    }
}

pub fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .redirects(0)
        .timeout(Duration::from_secs(60))
        .build()
}

/// Starts a server with a release every second of whatever is pending (so tests see released
/// reports quickly); tests of the release threshold set `JIANFU_POOL_RELEASE_MIN` themselves.
pub fn spawn_app() -> TestApp {
    spawn_app_with(&[("JIANFU_POOL_RELEASE_EVERY", "1s")])
}

pub fn spawn_app_with(env: &[(&str, &str)]) -> TestApp {
    spawn_app_in(tempfile::tempdir().expect("temp dir"), env)
}

/// Starts a server whose data dir is `dir/data` (which may already exist, e.g. a mount).
pub fn spawn_app_in(dir: tempfile::TempDir, env: &[(&str, &str)]) -> TestApp {
    let mut env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if !env.iter().any(|(k, _)| k == "JIANFU_POOL_RELEASE_MIN") {
        env.push(("JIANFU_POOL_RELEASE_MIN".into(), "1".into()));
    }
    let mut app = TestApp {
        url: String::new(),
        dir,
        env,
        child: None,
        output: Arc::new(Mutex::new(String::new())),
        agent: agent(),
    };
    app.start();
    app
}

impl TestApp {
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self) -> Command {
        let mut c = Command::new(bin());
        c.env_remove("RUST_LOG")
            .env("JIANFU_DATA_DIR", self.data_dir())
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        c
    }

    /// Starts (or restarts) the server on a fresh random port.
    pub fn start(&mut self) {
        let mut child = self
            .command()
            .args(["serve", "--bind", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start jianfu");
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let out = self.output.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("jianfu is serving on ") {
                    let _ = tx.send(addr.to_string());
                }
                out.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let out = self.output.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                out.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        self.url = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("server did not start: {}", self.output()));
        self.child = Some(child);
    }

    /// The server's process id, e.g. to read its memory from `/proc/<pid>/status`.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("server running").id()
    }

    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Waits until the server has printed `text`.
    pub fn wait_for_output(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = self.output();
            if out.contains(text) {
                return out;
            }
            assert!(Instant::now() < deadline, "`{text}` never printed: {out}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL, no goodbye.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait for the exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("running");
        Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status()
            .unwrap();
        c.wait().unwrap()
    }

    /// Runs a CLI command against this data dir, feeding `stdin`.
    pub fn cli(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    pub fn cli_ok(&self, args: &[&str], stdin: &str) -> String {
        let out = self.cli(args, stdin);
        assert!(
            out.status.success(),
            "jianfu {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// The first investigator (which creates the desk key) and an admin.
    pub fn add_staff(&self) {
        self.cli_ok(
            &[
                "user",
                "add",
                "--username",
                INVESTIGATOR,
                "--role",
                "investigator",
                "--password-stdin",
            ],
            &format!("{INVESTIGATOR_PASSWORD}\n"),
        );
        self.add_admin();
    }

    /// Adds the admin `ADMIN` with the command line.
    pub fn add_admin(&self) {
        self.cli_ok(
            &[
                "user",
                "add",
                "--username",
                ADMIN,
                "--role",
                "admin",
                "--password-stdin",
            ],
            &format!("{ADMIN_PASSWORD}\n"),
        );
    }

    /// Issues `n` cards; returns their codes as printed.
    pub fn issue_cards(&self, n: u32) -> Vec<String> {
        self.issue_cards_with(n, &[])
    }

    pub fn issue_cards_with(&self, n: u32, extra: &[&str]) -> Vec<String> {
        let count = n.to_string();
        let mut args = vec!["tokens", "issue", "--count", &count];
        if !extra.contains(&"--label") {
            args.extend(["--label", "test batch"]);
        }
        args.extend_from_slice(extra);
        self.cli_ok(&args, "").lines().map(str::to_string).collect()
    }

    /// The objects of the audit rows with this action, oldest first (read from a copy of
    /// the database as an auditor would).
    pub fn audited(&self, action: &str) -> Vec<String> {
        let conn = rusqlite::Connection::open(self.data_dir().join("jianfu.db")).unwrap();
        let mut stmt = conn
            .prepare("SELECT object FROM audit WHERE action = ?1 ORDER BY id")
            .unwrap();
        let rows = stmt.query_map([action], |r| r.get(0)).unwrap();
        rows.map(Result::unwrap).collect()
    }

    pub fn get(&self, path: &str) -> Resp {
        read(self.agent.get(&format!("{}{path}", self.url)).call())
    }

    pub fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        read(
            self.agent
                .post(&format!("{}{path}", self.url))
                .send_form(fields),
        )
    }

    pub fn post_raw(&self, path: &str, body: &[u8]) -> Resp {
        read(
            self.agent
                .post(&format!("{}{path}", self.url))
                .set("Content-Type", "application/x-www-form-urlencoded")
                .send_bytes(body),
        )
    }

    /// Files a complete, non-identifying report with `token` and `body`.
    pub fn file(&self, token: &str, body: &str) -> Resp {
        self.post_form("/report", &report_fields(token, body))
    }

    /// Waits until `n` reports have been released (the pool is empty).
    pub fn wait_released(&self, n: usize) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let rows = self.export();
            if rows.len() >= n {
                return rows;
            }
            assert!(
                Instant::now() < deadline,
                "only {} of {n} released",
                rows.len()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// `jianfu reports export` as the investigator, parsed.
    pub fn export(&self) -> Vec<serde_json::Value> {
        self.cli_ok(
            &[
                "reports",
                "export",
                "--username",
                INVESTIGATOR,
                "--password-stdin",
            ],
            &format!("{INVESTIGATOR_PASSWORD}\n"),
        )
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
    }

    /// Opens a one-time enrolment link (`/staff/enrol/…`) and sets `password` there, as the
    /// person it was made for does.
    pub fn enrol(&self, link: &str, password: &str) -> Resp {
        let path = &link[link.find("/staff/enrol/").expect("an enrolment link")..];
        assert_eq!(self.get(path).status, 200, "the link is live");
        self.post_form(path, &[("password", password), ("password2", password)])
    }

    /// `jianfu user invite`: the enrolment URL it prints.
    pub fn invite(&self, username: &str, role: &str) -> String {
        self.cli_ok(
            &["user", "invite", "--username", username, "--role", role],
            "",
        )
        .trim()
        .to_string()
    }

    /// Logs in; returns a staff session.
    pub fn login(&self, username: &str, password: &str) -> Staff<'_> {
        let r = self.post_form(
            "/staff/login",
            &[("username", username), ("password", password)],
        );
        assert_eq!(r.status, 303, "login failed: {}", r.body);
        let cookie = r
            .header("set-cookie")
            .expect("session cookie")
            .split(';')
            .next()
            .unwrap()
            .to_string();
        Staff { app: self, cookie }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A signed-in staff member.
pub struct Staff<'a> {
    pub app: &'a TestApp,
    pub cookie: String,
}

impl Staff<'_> {
    pub fn get(&self, path: &str) -> Resp {
        read(
            self.app
                .agent
                .get(&format!("{}{path}", self.app.url))
                .set("Cookie", &self.cookie)
                .call(),
        )
    }

    /// A POST with this session's CSRF token added.
    pub fn post_csrf(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let csrf = self.csrf();
        let mut all = fields.to_vec();
        all.push(("csrf", &csrf));
        self.post(path, &all)
    }

    pub fn post(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        read(
            self.app
                .agent
                .post(&format!("{}{path}", self.app.url))
                .set("Cookie", &self.cookie)
                .send_form(fields),
        )
    }

    /// The queue under these filters, set as the desk's filter form does: a POST (P8: nothing
    /// of a filter or search in a URL), then the queue page it sends back to.
    pub fn queue_with(&self, fields: &[(&str, &str)]) -> String {
        let set = self.post_csrf("/staff/reports", fields);
        assert_eq!(set.status, 303, "filter: {}", set.body);
        self.get(set.header("location").expect("back to the queue"))
            .body
    }

    /// The id of this desk's one case, from its cases page (case ids are random).
    pub fn only_case(&self) -> String {
        let page = self.get("/staff/cases").body;
        let ids: Vec<&str> = page
            .split("<a href=\"/staff/cases/")
            .skip(1)
            .map(|rest| &rest[..rest.find('"').expect("a closed link")])
            .collect();
        assert_eq!(ids.len(), 1, "one case: {page}");
        ids[0].to_string()
    }

    /// The CSRF token from a page's hidden field.
    pub fn csrf(&self) -> String {
        let page = ["/staff/batches", "/staff/team", "/staff/totp"]
            .iter()
            .map(|p| self.get(p).body)
            .find(|b| b.contains("name=\"csrf\""))
            .expect("a page with a CSRF field");
        let at = page.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
        page[at..at + 64].to_string()
    }
}

/// The enrolment link a page shows (`id="enrol-link"`).
pub fn link_in(page: &str) -> String {
    let at = page.find("id=\"enrol-link\">").expect("a link on the page") + 16;
    let end = at + page[at..].find('<').unwrap();
    page[at..end].replace("&#x2F;", "/")
}

/// What an element with this id holds (a fingerprint, a recovery code).
pub fn element_text(page: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    let at = page.find(&marker).unwrap_or_else(|| panic!("no #{id}")) + marker.len();
    let end = at + page[at..].find('<').unwrap();
    page[at..end].to_string()
}

impl Staff<'_> {
    /// The first group of this investigator's own key fingerprint, as their team page shows
    /// it to them alone: what they read out to a colleague who grants them the desk key.
    pub fn fingerprint_group(&self) -> String {
        element_text(&self.get("/staff/team").body, "my-fingerprint")[..4].to_string()
    }

    /// Grants the desk key to investigator `username` from this session's team page, typing
    /// `group` as the first group of their fingerprint.
    pub fn grant(&self, username: &str, group: &str) -> Resp {
        let team = self.get("/staff/team").body;
        let row = team
            .find(&format!("<td>{username}</td>"))
            .unwrap_or_else(|| panic!("{username} on the team page"));
        let at = row + team[row..].find("/grant\"").expect("a grant form");
        let start = team[..at].rfind("/staff/team/").unwrap();
        self.post_csrf(
            &format!("{}/grant", &team[start..at]),
            &[("fingerprint", group)],
        )
    }
}

pub fn report_fields<'a>(token: &'a str, body: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("token", token),
        ("category", "verbal"),
        ("channel", "chat_group"),
        ("department", "县农业农村局"),
        ("township", "城关镇"),
        ("occurred", "2026-10"),
        ("listed", "no"),
        ("body", body),
    ]
}

/// Every file under `dir`, with its bytes.
pub fn all_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().map_while(Result::ok) {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                out.push((p, bytes));
            }
        }
    }
    out
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}
