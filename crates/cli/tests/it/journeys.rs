//! Every role's journey through the portal in a real browser against `accredit serve --demo`,
//! across the four example programs. Each page visited passes axe-core with no serious or
//! critical violation and is saved as a screenshot; bad input in the journeys' forms is shown
//! next to its field with what was typed kept.

use crate::browser::{
    axe_source, chromedriver, open_browser, screenshot_dir, serious_violations, sign_in,
    start_chromedriver, start_demo_server, wait_for_heading,
};
use crate::support::{Backend, TestDb};
use fantoccini::error::CmdError;
use fantoccini::{Client, Locator};
use tokio::process::Child;

struct Journey {
    browser: Client,
    base: String,
    axe: String,
    suffix: &'static str,
    problems: Vec<String>,
    _server: Child,
    _driver: Child,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
    _db: Option<TestDb>,
}

impl Journey {
    /// `None` (and said why) when the browser, axe-core or PostgreSQL is not there.
    async fn start(backend: Backend) -> Option<Journey> {
        let driver_path = chromedriver()?;
        let axe = axe_source()?;
        let db = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(TestDb::create(backend).await?),
        };
        let data = tempfile::tempdir().unwrap();
        let (server, base) =
            start_demo_server(data.path(), db.as_ref().map(|d| d.url.as_str())).await;
        let (driver, port) = start_chromedriver(&driver_path).await;
        let profile = tempfile::tempdir().unwrap();
        let browser = open_browser(port, profile.path()).await;
        Some(Journey {
            browser,
            base,
            axe,
            suffix: if db.is_some() { "postgres" } else { "sqlite" },
            problems: Vec::new(),
            _server: server,
            _driver: driver,
            _dirs: (data, profile),
            _db: db,
        })
    }

    async fn goto(&self, path: &str) -> Result<(), CmdError> {
        self.browser.goto(&format!("{}{path}", self.base)).await
    }

    async fn sign_in(&self, email: &str) -> Result<(), CmdError> {
        sign_in(&self.browser, &self.base, email).await
    }

    async fn main_text(&self) -> Result<String, CmdError> {
        self.browser.find(Locator::Css("main")).await?.text().await
    }

    /// The page shows `expect`, passes axe-core, and is kept as `name`.png.
    async fn check(&mut self, name: &str, expect: &str) -> Result<(), CmdError> {
        let text = self.main_text().await?;
        assert!(
            text.contains(expect),
            "{name}: expected `{expect}` in {text}"
        );
        for violation in serious_violations(&self.browser, &self.axe).await? {
            self.problems.push(format!("{name}: {violation}"));
        }
        let png = self.browser.screenshot().await?;
        std::fs::write(
            screenshot_dir().join(format!("journey-{name}-{}.png", self.suffix)),
            png,
        )
        .unwrap();
        Ok(())
    }

    async fn text_of(&self, id: &str) -> Result<String, CmdError> {
        self.browser.find(Locator::Id(id)).await?.text().await
    }

    /// What the input `id` holds now.
    async fn value_of(&self, id: &str) -> Result<Option<String>, CmdError> {
        self.browser
            .find(Locator::Id(id))
            .await?
            .prop("value")
            .await
    }

    async fn click_link(&self, text: &str) -> Result<(), CmdError> {
        self.browser
            .find(Locator::LinkText(text))
            .await?
            .click()
            .await
    }

    async fn type_into(&self, id: &str, text: &str) -> Result<(), CmdError> {
        let field = self.browser.find(Locator::Id(id)).await?;
        field.clear().await?;
        field.send_keys(text).await
    }

    /// Submits a form with the keyboard (Enter on its button) and waits for the page that
    /// answers, so nothing is read from the page being left.
    async fn press(&self, button: &str) -> Result<(), CmdError> {
        self.browser
            .execute("window.__leaving = true;", vec![])
            .await?;
        self.browser
            .find(Locator::XPath(&format!(
                "//button[normalize-space()='{button}']"
            )))
            .await?
            .send_keys("\u{E007}")
            .await?;
        for _ in 0..600 {
            let arrived = self
                .browser
                .execute(
                    "return window.__leaving !== true && document.readyState === 'complete';",
                    vec![],
                )
                .await;
            if matches!(arrived, Ok(serde_json::Value::Bool(true))) {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("no page answered the `{button}` button within 30 seconds");
    }

    /// The message shown next to input `id`, and the value the input kept.
    async fn field_error(&self, id: &str) -> Result<(String, String), CmdError> {
        let message = self
            .browser
            .wait()
            .for_element(Locator::Id(&format!("{id}-error")))
            .await?
            .text()
            .await?;
        let input = self.browser.find(Locator::Id(id)).await?;
        let described = input.attr("aria-describedby").await?;
        assert_eq!(described.as_deref(), Some(format!("{id}-error").as_str()));
        let value = input.prop("value").await?.unwrap_or_default();
        Ok((message, value))
    }

    /// A page that ran injected script would have set this.
    async fn assert_no_script_ran(&self) -> Result<(), CmdError> {
        let ran = self
            .browser
            .execute("return window.__injected === true;", vec![])
            .await?;
        assert_eq!(ran, serde_json::Value::Bool(false), "injected script ran");
        Ok(())
    }

    /// Puts `value` into the input `id` as if typed (long values are set directly: typing
    /// thousands of keys is slow), submits with `button`, and expects a message containing
    /// `expect` next to the input with the value kept and no script run.
    async fn refused(
        &self,
        id: &str,
        value: &str,
        button: &str,
        expect: &str,
    ) -> Result<(), CmdError> {
        if value.chars().count() > 300 {
            self.browser
                .execute(
                    "document.getElementById(arguments[0]).value = arguments[1];",
                    vec![id.into(), value.into()],
                )
                .await?;
        } else {
            self.type_into(id, value).await?;
        }
        self.press(button).await?;
        let (message, kept) = self.field_error(id).await?;
        assert!(
            message.contains(expect),
            "{id} with {} characters: expected `{expect}` in `{message}`",
            value.chars().count()
        );
        assert_eq!(kept, value, "{id} keeps what was typed");
        self.assert_no_script_ran().await
    }

    async fn finish(self, result: Result<(), CmdError>) {
        let _ = self.browser.clone().close().await;
        result.expect("browser journey");
        assert!(
            self.problems.is_empty(),
            "accessibility problems:\n{}",
            self.problems.join("\n")
        );
    }
}

const INJECTION: &str =
    "<script>window.__injected = true</script><img src=x onerror=\"window.__injected = true\">";

/// Takes an exam without answering, and sees the result and when they may try again.
async fn fail_an_exam(j: &mut Journey, program: &str, exam: &str) -> Result<(), CmdError> {
    j.goto(&format!("/exams/{program}/{exam}")).await?;
    j.check(&format!("blueprint-{program}"), "Sit the exam")
        .await?;
    j.press("Start the exam").await?;
    j.browser.wait().for_element(Locator::Id("exam")).await?;
    j.browser
        .find(Locator::Id("submit-attempt"))
        .await?
        .send_keys("\u{E007}")
        .await?;
    let heading = j
        .browser
        .wait()
        .for_element(Locator::Id("result-heading"))
        .await?
        .text()
        .await?;
    assert!(heading.contains("Not passed"), "{program}: {heading}");
    j.check(&format!("exam-failed-{program}"), "You may try again from")
        .await
}

async fn learner_journeys(backend: Backend) {
    let Some(mut j) = Journey::start(backend).await else {
        return;
    };
    let result = async {
        // ISV: the developer's track and what it needs, the content, search, the blueprint.
        j.sign_in("dev@nimbus.example").await?;
        j.check(
            "learner-home-isv",
            "Your track: Platform Security Certified Developer",
        )
        .await?;
        let home = j.main_text().await?;
        assert!(home.contains("It requires: complete the module"), "{home}");
        j.browser
            .find(Locator::Css("section.training td a"))
            .await?
            .click()
            .await?;
        wait_for_heading(&j.browser, "The platform security model").await?;
        j.check("module-isv", "Contents").await?;
        // Script typed into the search box comes back as text in the box, and runs nowhere.
        j.goto("/search").await?;
        j.type_into("q", &format!("{INJECTION}\u{E007}")).await?;
        j.browser
            .wait()
            .for_element(Locator::Id("results-heading"))
            .await?;
        let kept = j.value_of("q").await?;
        assert_eq!(kept.as_deref(), Some(INJECTION));
        j.assert_no_script_ran().await?;
        j.type_into("q", "injection\u{E007}").await?;
        j.browser
            .wait()
            .for_element(Locator::Id("results-heading"))
            .await?;
        j.check("search-isv", "result").await?;
        j.goto("/exams/isv-platform-security/security-review-scenarios-exam")
            .await?;
        j.check("blueprint-isv", "Prerequisites").await?;

        // Cloud MSP, CRM agency, medical distributor: an exam failed, and the retry date.
        j.sign_in("ops@cirrus.example").await?;
        fail_an_exam(&mut j, "cloud-msp", "associate-architect-exam").await?;
        // The practical, with bad input first: empty, then script and a link that is not one.
        j.goto("/practicals").await?;
        j.press("Submit for review").await?;
        let (message, _) = j.field_error("d-well-architected-review").await?;
        assert!(message.contains("must not be empty"), "{message}");
        j.type_into("d-well-architected-review", INJECTION).await?;
        j.type_into("l-well-architected-review", "not a link")
            .await?;
        j.press("Submit for review").await?;
        let (message, kept) = j.field_error("l-well-architected-review").await?;
        assert!(message.contains("is not a web address"), "{message}");
        assert_eq!(kept, "not a link");
        let kept = j.value_of("d-well-architected-review").await?;
        assert_eq!(
            kept.as_deref(),
            Some(INJECTION),
            "the description is kept as typed"
        );
        j.assert_no_script_ran().await?;
        j.check("practical-refused", "Nothing was saved").await?;
        j.type_into(
            "d-well-architected-review",
            "A well-architected review of a retail customer's order platform across all pillars.",
        )
        .await?;
        j.type_into(
            "l-well-architected-review",
            "https://docs.stratus.example/reviews/retail",
        )
        .await?;
        j.press("Submit for review").await?;
        j.browser
            .wait()
            .for_element(Locator::Css("p.notice"))
            .await?;
        j.check("practical-submitted", "is waiting for review")
            .await?;

        j.sign_in("deals@lumen.example").await?;
        fail_an_exam(&mut j, "crm-solutions-agency", "sales-hub-exam").await?;
        j.sign_in("validation@bluebird.example").await?;
        fail_an_exam(
            &mut j,
            "medical-software-distributor",
            "technical-written-exam",
        )
        .await?;

        // A holder shares the credential: LinkedIn, download, verify address.
        j.sign_in("dev@acme.example").await?;
        j.goto("/credentials").await?;
        j.check("my-credentials", "Download (JSON)").await?;
        j.click_link("Verify and share").await?;
        j.browser.wait().for_element(Locator::Id("verdict")).await?;
        j.check("verify-share", "Add to LinkedIn profile").await?;

        // Renewal through the delta module, inside the window.
        j.sign_in("admin@acme.example").await?;
        j.goto("/certifications").await?;
        wait_for_heading(&j.browser, "My certifications").await?;
        j.browser
            .find(Locator::XPath(
                "//a[starts-with(normalize-space(), 'Renewal details')]",
            ))
            .await?
            .click()
            .await?;
        wait_for_heading(&j.browser, "Renew").await?;
        j.check("delta-module", "The delta module").await?;
        j.press("I have read what changed").await?;
        j.browser
            .wait()
            .for_element(Locator::LinkText("see the new credential"))
            .await?;
        j.check("delta-renewed", "Renewed").await?;

        // The 90-day reminder reached a holder whose credential ends in 90 days.
        j.sign_in("ops@stratus.example").await?;
        j.check("learner-reminded", "Notifications").await?;
        let notes = j.text_of("notifications").await?;
        assert!(
            notes.contains("90 days") || notes.contains("ends"),
            "{notes}"
        );
        Ok(())
    }
    .await;
    j.finish(result).await;
}

async fn partner_admin_journey(backend: Backend) {
    let Some(mut j) = Journey::start(backend).await else {
        return;
    };
    let result = async {
        j.sign_in("admin@acme.example").await?;
        j.goto("/").await?;
        j.click_link("Acme Integrations").await?;
        wait_for_heading(&j.browser, "Acme Integrations").await?;
        j.check("partner-admin-firm", "Invite a colleague").await?;

        // Bad input: empty, wrong type, too long, script; each shown next to its field.
        j.press("Send invitation").await?;
        let (message, _) = j.field_error("invite-name").await?;
        assert!(message.contains("must not be empty"), "{message}");
        let (message, _) = j.field_error("invite-email").await?;
        assert!(message.contains("must not be empty"), "{message}");
        j.type_into("invite-name", INJECTION).await?;
        j.type_into("invite-email", "not-an-address").await?;
        j.press("Send invitation").await?;
        let (message, kept) = j.field_error("invite-email").await?;
        assert!(message.contains("not-an-address"), "{message}");
        assert_eq!(kept, "not-an-address");
        let name = j.value_of("invite-name").await?;
        assert_eq!(
            name.as_deref(),
            Some(INJECTION),
            "the name is kept as typed"
        );
        j.assert_no_script_ran().await?;
        let long = "x".repeat(201);
        j.type_into("invite-name", &long).await?;
        j.press("Send invitation").await?;
        let (message, kept) = j.field_error("invite-name").await?;
        assert!(message.contains("201 characters"), "{message}");
        assert_eq!(kept, long);
        j.check("invite-refused", "Nothing was saved").await?;

        // A good invitation, then the colleague's job role and access.
        j.type_into("invite-name", "Noor Haddad").await?;
        j.type_into("invite-email", "noor@acme.example").await?;
        j.press("Send invitation").await?;
        j.browser.wait().for_element(Locator::Id("notice")).await?;
        j.check("invite-sent", "Invitation sent to Noor Haddad")
            .await?;
        j.click_link("Noor Haddad").await?;
        wait_for_heading(&j.browser, "Noor Haddad").await?;
        j.check("person-no-role", "choose a job role").await?;
        j.browser
            .find(Locator::Css("#person-job-role option[value=developer]"))
            .await?
            .click()
            .await?;
        j.press("Save").await?;
        j.browser.wait().for_element(Locator::Id("notice")).await?;
        j.check("person-tracks", "Platform Security Certified Developer")
            .await?;
        j.type_into("person-name", "").await?;
        j.press("Save").await?;
        let (message, _) = j.field_error("person-name").await?;
        assert!(message.contains("must not be empty"), "{message}");

        // Staff from CSV: the good row is added, the bad one named with its line.
        let csv = tempfile::NamedTempFile::with_suffix(".csv").unwrap();
        std::fs::write(
            csv.path(),
            "email,display_name,roles,job_role\nomar@acme.example,Omar Ali,learner,developer\nnot-an-address,Bad Row,learner,developer\n",
        )
        .unwrap();
        j.goto("/").await?;
        j.click_link("Acme Integrations").await?;
        wait_for_heading(&j.browser, "Acme Integrations").await?;
        j.browser
            .find(Locator::Id("people-file"))
            .await?
            .send_keys(&csv.path().display().to_string())
            .await?;
        j.press("Import").await?;
        let report = j.text_of("import-heading").await?;
        assert!(report.contains("1 added"), "{report}");
        let errors = j.text_of("import-errors").await?;
        assert!(errors.contains("line 3"), "{errors}");
        j.check("people-imported", "Omar Ali").await?;

        // The firm's compliance: tier, what is missing, benefits at risk and why.
        j.goto("/").await?;
        j.click_link("Acme Integrations").await?;
        wait_for_heading(&j.browser, "Acme Integrations").await?;
        j.click_link("compliance: who lapses when, benefits at risk")
            .await?;
        wait_for_heading(&j.browser, "Compliance").await?;
        j.check("partner-admin-compliance", "Benefits at risk")
            .await?;
        Ok(())
    }
    .await;
    j.finish(result).await;
}

async fn account_manager_journey(backend: Backend) {
    let Some(mut j) = Journey::start(backend).await else {
        return;
    };
    let result = async {
        j.sign_in("pam@meridian.example").await?;
        j.check("pam-at-risk", "Your partners at a glance").await?;
        let table = j.text_of("at-risk").await?;
        assert!(table.contains("if one more person lapses"), "{table}");
        // One click from the forecast to the people concerned.
        j.browser
            .find(Locator::Css("td.forecast a"))
            .await?
            .click()
            .await?;
        wait_for_heading(&j.browser, "Compliance").await?;
        j.check("pam-partner-compliance", "Credentials lapsing")
            .await?;
        Ok(())
    }
    .await;
    j.finish(result).await;
}

async fn reviewer_and_proctor_journey(backend: Backend) {
    let Some(mut j) = Journey::start(backend).await else {
        return;
    };
    let result = async {
        // A candidate starts the proctored ISV exam; it waits for the proctor.
        j.sign_in("dev@acme.example").await?;
        j.goto("/exams/isv-platform-security/security-review-scenarios-exam")
            .await?;
        j.press("Start the exam").await?;

        j.sign_in("proctor@meridian.example").await?;
        j.goto("/proctoring").await?;
        j.check("proctor-live", "Waiting for approval").await?;
        j.press("Approve start").await?;
        j.check("proctor-approved", "In progress").await?;
        // Invalidating needs a reason of five characters or more, shown next to the field.
        let reason = j
            .browser
            .find(Locator::Css("input[id^='reason-']"))
            .await?
            .attr("id")
            .await?
            .expect("the reason input has an id");
        j.refused(&reason, "", "Invalidate attempt", "must not be empty")
            .await?;
        j.refused(
            &reason,
            &"r".repeat(1_001),
            "Invalidate attempt",
            "1001 characters",
        )
        .await?;
        j.type_into(&reason, "abc").await?;
        j.press("Invalidate attempt").await?;
        let (message, kept) = j.field_error(&reason).await?;
        assert!(message.contains("at least 5 characters"), "{message}");
        assert_eq!(kept, "abc");
        j.check("proctor-refused", "Nothing was saved").await?;
        j.type_into(&reason, "A second person was seen at the desk")
            .await?;
        j.press("Invalidate attempt").await?;
        j.check(
            "proctor-invalidated",
            "The attempt of Sam Carter is invalidated",
        )
        .await?;

        // A practical waits for review; the reviewer signs with the rubric and a password.
        j.sign_in("ops@cirrus.example").await?;
        j.goto("/practicals").await?;
        j.type_into(
            "d-well-architected-review",
            "A well-architected review of a logistics customer's tracking platform.",
        )
        .await?;
        j.press("Submit for review").await?;
        j.sign_in("reviewer@meridian.example").await?;
        j.goto("/reviews").await?;
        j.check("review-queue", "Well-architected review").await?;
        let verdict = j
            .browser
            .find(Locator::Css("fieldset[id^='verdict-']"))
            .await?
            .attr("id")
            .await?
            .expect("the verdict fieldset has an id");
        let submission = verdict.trim_start_matches("verdict-").to_owned();
        j.type_into(&format!("comment-{submission}"), INJECTION)
            .await?;
        j.press("Sign decision").await?;
        let message = j
            .browser
            .wait()
            .for_element(Locator::Id(&format!("{verdict}-error")))
            .await?
            .text()
            .await?;
        assert!(message.contains("approve"), "{message}");
        let kept = j
            .browser
            .find(Locator::Id(&format!("comment-{submission}")))
            .await?
            .prop("value")
            .await?;
        assert_eq!(kept.as_deref(), Some(INJECTION), "the comment is kept");
        j.assert_no_script_ran().await?;
        j.check("review-refused", "Nothing was saved").await?;
        for criterion in ["security", "reliability", "cost"] {
            j.browser
                .find(Locator::Css(&format!(
                    "#score-{submission}-{criterion} option[value='4']"
                )))
                .await?
                .click()
                .await?;
        }
        j.browser
            .find(Locator::Css(&format!("#{verdict} input[value='approve']")))
            .await?
            .click()
            .await?;
        j.refused(
            &format!("comment-{submission}"),
            &"c".repeat(5_001),
            "Sign decision",
            "5001 characters",
        )
        .await?;
        j.type_into(
            &format!("comment-{submission}"),
            "Thorough and well argued.",
        )
        .await?;
        j.type_into(&format!("password-{submission}"), "wrong password")
            .await?;
        j.press("Sign decision").await?;
        let (message, _) = j.field_error(&format!("password-{submission}")).await?;
        assert!(message.contains("does not match"), "{message}");
        j.type_into(
            &format!("password-{submission}"),
            crate::browser::DEMO_PASSWORD,
        )
        .await?;
        j.press("Sign decision").await?;
        j.check("review-signed", "Signed by Priya Raman").await?;
        Ok(())
    }
    .await;
    j.finish(result).await;
}

async fn program_admin_journey(backend: Backend) {
    let Some(mut j) = Journey::start(backend).await else {
        return;
    };
    let result = async {
        j.sign_in("admin@meridian.example").await?;
        // A program file with a mistake: the problem is named with its line.
        j.goto("/programs").await?;
        j.check("programs", "Preview or apply a program file")
            .await?;
        j.type_into("source", "id = \"broken\"\nname = ").await?;
        j.press("Preview changes").await?;
        j.browser
            .wait()
            .for_element(Locator::Id("problems-heading"))
            .await?;
        j.check("program-file-problems", "line").await?;
        let kept = j.value_of("source").await?;
        assert_eq!(kept.as_deref(), Some("id = \"broken\"\nname = "));

        // A recertification trigger: bad input first, each problem next to its field.
        j.goto("/programs/medical-software-distributor/lifecycle")
            .await?;
        j.press("Record trigger").await?;
        let (message, _) = j.field_error("reason").await?;
        assert!(message.contains("at least 5 characters"), "{message}");
        let tracks = j.text_of("tracks-error").await?;
        assert!(tracks.contains("at least one affected track"), "{tracks}");
        let long = "r".repeat(501);
        j.type_into("reason", &long).await?;
        j.press("Record trigger").await?;
        let (message, kept) = j.field_error("reason").await?;
        assert!(message.contains("501 characters"), "{message}");
        assert_eq!(kept, long);
        j.type_into("reason", INJECTION).await?;
        j.type_into("modules", "no-such-module").await?;
        j.press("Record trigger").await?;
        let (message, kept) = j.field_error("modules").await?;
        assert!(message.contains("no module `no-such-module`"), "{message}");
        assert_eq!(kept, "no-such-module");
        let reason = j.value_of("reason").await?;
        assert_eq!(reason.as_deref(), Some(INJECTION));
        j.assert_no_script_ran().await?;
        j.check("trigger-refused", "Nothing was saved").await?;
        j.type_into(
            "reason",
            "The instructions for use changed: new contraindications",
        )
        .await?;
        j.type_into("modules", "").await?;
        j.browser
            .find(Locator::Css("input[name=track][value=technical]"))
            .await?
            .send_keys(" ")
            .await?;
        j.press("Record trigger").await?;
        j.check("trigger-recorded", "must recertify by").await?;
        let progress = j.main_text().await?;
        assert!(progress.contains("done"), "{progress}");

        // Webhooks: an address that is not one, and no event chosen.
        j.goto("/admin/webhooks").await?;
        j.type_into("url", "not a url").await?;
        j.press("Add endpoint").await?;
        let (message, kept) = j.field_error("url").await?;
        assert!(message.contains("not a URL"), "{message}");
        assert_eq!(kept, "not a url");
        let events = j.text_of("events-error").await?;
        assert!(events.contains("at least one event"), "{events}");
        j.check("webhook-refused", "Nothing was saved").await?;
        j.type_into("url", "https://hooks.meridian.example/accredit")
            .await?;
        j.browser
            .find(Locator::Css("input[name=event][value='credential.issued']"))
            .await?
            .send_keys(" ")
            .await?;
        j.press("Add endpoint").await?;
        j.check("webhook-added", "Give the receiver its signing secret")
            .await?;

        // A valid new version: the preview lists each change before anything is applied.
        let changed = include_str!("../../../../examples/programs/crm-solutions-agency.toml")
            .replace("version = \"2026.1\"", "version = \"2026.2\"")
            .replace(
                "title = \"Data migration into the CRM\"",
                "title = \"Data migration into the CRM, with deduplication\"",
            );
        j.goto("/programs").await?;
        j.browser
            .execute(
                "document.getElementById('source').value = arguments[0];",
                vec![serde_json::Value::String(changed)],
            )
            .await?;
        j.press("Preview changes").await?;
        let plan = j.text_of("program-changes").await?;
        assert!(plan.contains("crm-data-migration"), "{plan}");
        j.check("program-preview", "Preview of").await?;

        // Publishing a blueprint again, and a new version of a module's content.
        j.goto("/programs/cloud-msp/items").await?;
        j.press("Publish again").await?;
        j.check("exam-published", "items per form").await?;
        let guide = tempfile::NamedTempFile::with_suffix(".md").unwrap();
        std::fs::write(
            guide.path(),
            "# Data migration\n\n## Deduplicate first\n\nMerge duplicate contacts before the import, not after.\n",
        )
        .unwrap();
        j.goto("/programs/crm-solutions-agency/modules/crm-data-migration/versions")
            .await?;
        j.browser
            .find(Locator::Id("file0"))
            .await?
            .send_keys(&guide.path().display().to_string())
            .await?;
        j.press("Publish version").await?;
        j.check("content-published", "is published").await?;
        j.browser
            .find(Locator::XPath(
                "//a[starts-with(normalize-space(), 'Read version')]",
            ))
            .await?
            .click()
            .await?;
        wait_for_heading(&j.browser, "Data migration").await?;
        j.check("content-new-version", "Deduplicate first").await?;

        // Items and exams, content versions, the reports.
        j.goto("/programs/cloud-msp/items").await?;
        j.check("items-cloud-msp", "Associate solutions architect exam")
            .await?;
        j.goto("/programs/crm-solutions-agency/modules/crm-data-migration/versions")
            .await?;
        j.check("content-versions", "version").await?;
        for program in [
            "isv-platform-security",
            "cloud-msp",
            "crm-solutions-agency",
            "medical-software-distributor",
        ] {
            j.goto(&format!("/programs/{program}/reports")).await?;
            j.check(&format!("reports-{program}"), "Pass rate").await?;
        }
        // Anyone: the public directory.
        j.browser.delete_all_cookies().await?;
        j.goto("/directory").await?;
        j.check("public-directory", "listed").await?;
        Ok(())
    }
    .await;
    j.finish(result).await;
}

/// The journeys' other forms, each with empty, too long, wrong-type and script input where the
/// field can hold them.
async fn bad_input_journey(backend: Backend) {
    let Some(mut j) = Journey::start(backend).await else {
        return;
    };
    let result = async {
        // Search: empty asks for something, too long is refused, script stays text.
        j.sign_in("dev@nimbus.example").await?;
        j.goto("/search").await?;
        j.refused("q", &"q".repeat(501), "Search", "at most 500 characters")
            .await?;
        j.check("search-refused", "Search the training content")
            .await?;
        j.refused(
            "q",
            &format!("{INJECTION}{}", "x".repeat(480)),
            "Search",
            "at most 500",
        )
        .await?;

        // A person's name: empty, too long; script is a name like any other, shown as text.
        j.sign_in("admin@acme.example").await?;
        j.goto("/").await?;
        j.click_link("Acme Integrations").await?;
        wait_for_heading(&j.browser, "Acme Integrations").await?;
        j.click_link("Sam Carter").await?;
        wait_for_heading(&j.browser, "Sam Carter").await?;
        j.refused("person-name", "", "Save", "must not be empty")
            .await?;
        j.refused("person-name", &"n".repeat(201), "Save", "201 characters")
            .await?;
        j.check("person-refused", "Nothing was saved").await?;
        j.type_into("person-name", INJECTION).await?;
        j.press("Save").await?;
        let heading = j
            .browser
            .find(Locator::Css("main h1"))
            .await?
            .text()
            .await?;
        assert_eq!(heading, INJECTION, "the name is shown as text");
        j.assert_no_script_ran().await?;

        // A practical: empty, too long, a link of the wrong kind, script kept.
        j.sign_in("ops@cirrus.example").await?;
        j.goto("/practicals").await?;
        let description = "d-well-architected-review";
        j.refused(description, "", "Submit for review", "must not be empty")
            .await?;
        j.refused(
            description,
            &"w".repeat(20_001),
            "Submit for review",
            "20001 characters",
        )
        .await?;
        j.type_into(description, INJECTION).await?;
        j.refused(
            "l-well-architected-review",
            "ftp://files.cirrus.example/review.pdf",
            "Submit for review",
            "is not a web address",
        )
        .await?;

        // Program admin: webhook address and health scores.
        j.sign_in("admin@meridian.example").await?;
        j.goto("/admin/webhooks").await?;
        j.refused("url", "", "Add endpoint", "is not a URL").await?;
        j.refused(
            "url",
            &format!("https://hooks.example/{}", "p".repeat(2_000)),
            "Add endpoint",
            "the most is 2000",
        )
        .await?;
        j.refused("url", INJECTION, "Add endpoint", "is not a URL")
            .await?;
        j.refused(
            "url",
            "mailto:ops@meridian.example",
            "Add endpoint",
            "http:// or https://",
        )
        .await?;
        j.goto("/programs/crm-solutions-agency/lifecycle").await?;
        j.refused(
            "csv",
            &format!("partner,quarter,score\nLumen Marketing Co,2026-Q3,{INJECTION}\n"),
            "Record scores",
            "line 2",
        )
        .await?;
        j.check("health-refused", "Nothing was saved").await?;

        // A program file: empty and not TOML, each named with its line, the text kept.
        j.goto("/programs").await?;
        j.press("Preview changes").await?;
        j.browser
            .wait()
            .for_element(Locator::Id("problems-heading"))
            .await?;
        let source = j.browser.find(Locator::Id("source")).await?;
        assert_eq!(
            source.attr("aria-describedby").await?.as_deref(),
            Some("source-error")
        );
        j.type_into("source", INJECTION).await?;
        j.press("Preview changes").await?;
        let problems = j.text_of("program-errors").await?;
        assert!(problems.contains("line 1"), "{problems}");
        let kept = j.value_of("source").await?;
        assert_eq!(kept.as_deref(), Some(INJECTION));
        j.assert_no_script_ran().await?;
        Ok(())
    }
    .await;
    j.finish(result).await;
}

macro_rules! on_both_backends {
    ($journey:ident, $sqlite:ident, $postgres:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            $journey(Backend::Sqlite).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $postgres() {
            $journey(Backend::Postgres).await;
        }
    };
}

on_both_backends!(
    learner_journeys,
    learners_in_the_four_programs_on_sqlite,
    learners_in_the_four_programs_on_postgres
);
on_both_backends!(
    partner_admin_journey,
    a_partner_admin_invites_and_assigns_on_sqlite,
    a_partner_admin_invites_and_assigns_on_postgres
);
on_both_backends!(
    account_manager_journey,
    an_account_manager_sees_partners_at_risk_on_sqlite,
    an_account_manager_sees_partners_at_risk_on_postgres
);
on_both_backends!(
    reviewer_and_proctor_journey,
    a_proctor_and_a_reviewer_work_their_queues_on_sqlite,
    a_proctor_and_a_reviewer_work_their_queues_on_postgres
);
on_both_backends!(
    program_admin_journey,
    a_program_admin_runs_the_program_on_sqlite,
    a_program_admin_runs_the_program_on_postgres
);
on_both_backends!(
    bad_input_journey,
    bad_input_is_shown_next_to_the_field_on_sqlite,
    bad_input_is_shown_next_to_the_field_on_postgres
);
