//! People of a partner: inviting a colleague, one person's page (their tracks and credentials,
//! and for their admins the form to change job role and access), and accepting an invitation.

use crate::AppState;
use crate::form::{FormState, check_length};
use crate::pages::{
    Layout, PageResult, check_session_csrf, form_csrf, render_partner, with_cookie,
};
use crate::session::PageUser;
use accredit_app::AppError;
use accredit_app::accounts::{NewPerson, Person, PersonUpdate};
use accredit_app::invitations::Invitation;
use accredit_app::overview::CredentialView;
use accredit_domain::Role;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use axum::routing::{get, post};

/// Longest name and email a form accepts, the same as the use case's limits.
const NAME_MAX: usize = 200;
const EMAIL_MAX: usize = 254;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/partners/{id}/people/invite", post(invite))
        .route("/people/{id}", get(person_page).post(update_person))
        .route(
            "/invitations/{token}",
            get(invitation_page).post(accept_invitation),
        )
}

fn fields(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

fn field(fields: &[(String, String)], name: &str) -> String {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// The roles a partner admin may grant on these forms: learner always, partner admin if ticked.
fn partner_roles(fields: &[(String, String)]) -> Vec<Role> {
    let mut roles = vec![Role::Learner];
    if fields
        .iter()
        .any(|(k, v)| k == "role" && v == Role::PartnerAdmin.as_str())
    {
        roles.push(Role::PartnerAdmin);
    }
    roles
}

async fn invite(
    State(state): State<AppState>,
    user: PageUser,
    Path(partner_id): Path<String>,
    body: Bytes,
) -> PageResult {
    let fields = fields(&body);
    check_session_csrf(&user, &field(&fields, "csrf"))?;
    let name = field(&fields, "display_name");
    let email = field(&fields, "email");
    let job_role = field(&fields, "job_role");
    let admin = partner_roles(&fields).contains(&Role::PartnerAdmin);
    let mut form = FormState::new()
        .keep("invite-name", &name)
        .keep("invite-email", &email)
        .keep("invite-job-role", &job_role)
        .keep("invite-admin", if admin { "on" } else { "" });
    check_length(&mut form, "invite-name", "Name", &name, NAME_MAX);
    check_length(&mut form, "invite-email", "Email", &email, EMAIL_MAX);
    let mut notice = None;
    if !form.is_refused() {
        let input = NewPerson {
            email,
            display_name: name,
            roles: partner_roles(&fields),
            partner_id: Some(partner_id.clone()),
            job_role: (!job_role.is_empty()).then_some(job_role),
            password: None,
        };
        match state.app.invite_person(&user.ctx(), input).await {
            Ok(invited) => {
                notice = Some(format!(
                    "Invitation sent to {} ({}); the link works until {}.",
                    invited.person.display_name,
                    invited.person.email,
                    &invited.expires_at[..10]
                ));
                form = FormState::new();
            }
            Err(e) => {
                form = form.refused(
                    e,
                    &[
                        ("display_name", "invite-name"),
                        ("email", "invite-email"),
                        ("job_role", "invite-job-role"),
                        ("roles", "invite-admin"),
                    ],
                )?;
            }
        }
    }
    let status = if form.is_refused() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let mut page = render_partner(&state, &user, &partner_id, None).await?;
    page.invite = form;
    page.notice = notice;
    Ok((status, page).into_response())
}

/// A track the person's job role lets them earn, and how they stand on it.
struct TrackLine {
    program_name: String,
    name: String,
    held: Option<CredentialView>,
}

#[derive(Template, WebTemplate)]
#[template(path = "person.html")]
struct PersonPage {
    layout: Layout,
    person: Person,
    organisation: Option<String>,
    tracks: Vec<TrackLine>,
    job_roles: Vec<String>,
    can_edit: bool,
    form: FormState,
    notice: Option<String>,
}

async fn render_person(
    state: &AppState,
    user: &PageUser,
    id: &str,
    form: Option<FormState>,
    notice: Option<String>,
) -> PageResult<PersonPage> {
    let ctx = user.ctx();
    let person = state.app.get_person(&ctx, id).await?;
    let mut tracks = Vec::new();
    let mut job_roles = Vec::new();
    let mut organisation = None;
    if let Some(partner_id) = &person.partner_id {
        let overview = state.app.partner_overview(&ctx, partner_id).await?;
        organisation = Some(overview.partner.name.clone());
        let credentials: Vec<CredentialView> = overview
            .credentials
            .into_iter()
            .filter(|c| c.person_id == person.id)
            .collect();
        for standing in &overview.standings {
            let program = state.app.get_program(&ctx, &standing.program_id).await?;
            for role in &program.job_roles {
                if !job_roles.contains(role) {
                    job_roles.push(role.clone());
                }
            }
            for track in &program.tracks {
                let fits = track.job_roles.is_empty()
                    || person
                        .job_role
                        .as_ref()
                        .is_some_and(|r| track.job_roles.contains(r));
                if fits {
                    tracks.push(TrackLine {
                        program_name: program.name.clone(),
                        name: track.name.clone(),
                        held: credentials
                            .iter()
                            .find(|c| c.program_id == program.id && c.track_id == track.id)
                            .cloned(),
                    });
                }
            }
        }
    }
    let can_edit = person
        .partner_id
        .as_deref()
        .is_some_and(|p| crate::pages::manages_people(user, p));
    let form = form.unwrap_or_else(|| {
        FormState::new()
            .keep("person-name", &person.display_name)
            .keep(
                "person-job-role",
                person.job_role.clone().unwrap_or_default(),
            )
            .keep(
                "person-admin",
                if person.roles.contains(&Role::PartnerAdmin) {
                    "on"
                } else {
                    ""
                },
            )
    });
    Ok(PersonPage {
        layout: Layout::for_user(user),
        person,
        organisation,
        tracks,
        job_roles,
        can_edit,
        form,
        notice,
    })
}

/// One person: the tracks their job role lets them earn, their credentials, and for their
/// partner's admins the form to change name, job role and access.
async fn person_page(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> PageResult {
    Ok(render_person(&state, &user, &id, None, None)
        .await?
        .into_response())
}

async fn update_person(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let fields = fields(&body);
    check_session_csrf(&user, &field(&fields, "csrf"))?;
    let name = field(&fields, "display_name");
    let job_role = field(&fields, "job_role");
    let roles = partner_roles(&fields);
    let mut form = FormState::new()
        .keep("person-name", &name)
        .keep("person-job-role", &job_role)
        .keep(
            "person-admin",
            if roles.contains(&Role::PartnerAdmin) {
                "on"
            } else {
                ""
            },
        );
    check_length(&mut form, "person-name", "Name", &name, NAME_MAX);
    if !form.is_refused() {
        let update = PersonUpdate {
            display_name: Some(name),
            roles: Some(roles),
            job_role: Some(job_role),
            ..PersonUpdate::default()
        };
        match state.app.update_person(&user.ctx(), &id, update).await {
            Ok(person) => {
                let notice = format!("Saved. {} now has the tracks below.", person.display_name);
                return Ok(render_person(&state, &user, &id, None, Some(notice))
                    .await?
                    .into_response());
            }
            Err(e) => {
                form = form.refused(
                    e,
                    &[
                        ("display_name", "person-name"),
                        ("job_role", "person-job-role"),
                        ("roles", "person-admin"),
                    ],
                )?;
            }
        }
    }
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        render_person(&state, &user, &id, Some(form), None).await?,
    )
        .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "invitation.html")]
struct InvitationPage {
    layout: Layout,
    token: String,
    invited: Option<Invitation>,
    problem: Option<String>,
    form: FormState,
}

/// Whom a link invites, or why it no longer works.
async fn invitation_or_problem(
    state: &AppState,
    token: &str,
) -> PageResult<(Option<Invitation>, Option<String>)> {
    match state.app.invitation(token).await {
        Ok(invited) => Ok((Some(invited), None)),
        Err(AppError::Invalid(problems)) => Ok((None, problems.first().map(|p| p.message.clone()))),
        Err(other) => Err(other.into()),
    }
}

/// Where an invited person chooses their password.
async fn invitation_page(
    State(state): State<AppState>,
    parts: Parts,
    Path(token): Path<String>,
) -> PageResult {
    let (csrf, cookie) = form_csrf(&parts.headers, state.secure_cookies);
    let (invited, problem) = invitation_or_problem(&state, &token).await?;
    let status = if invited.is_some() {
        StatusCode::OK
    } else {
        StatusCode::GONE
    };
    let page = InvitationPage {
        layout: Layout::anonymous(csrf),
        token,
        invited,
        problem,
        form: FormState::new(),
    };
    Ok(with_cookie((status, page).into_response(), cookie))
}

async fn accept_invitation(
    State(state): State<AppState>,
    parts: Parts,
    Path(token): Path<String>,
    body: Bytes,
) -> PageResult {
    let fields = fields(&body);
    crate::pages::check_form_csrf(&parts.headers, &field(&fields, "csrf"))?;
    let password = field(&fields, "password");
    let repeated = field(&fields, "password_again");
    let mut form = FormState::new();
    if password != repeated {
        form.add(
            Some("password-again"),
            "the two passwords differ; type the same password twice",
        );
    }
    if !form.is_refused() {
        match state.app.accept_invitation(&token, &password).await {
            Ok(email) => {
                let session = state.app.login(None, &email, &password).await?;
                return Ok(crate::pages::signed_in(&state, &session));
            }
            Err(e) => form = form.refused(e, &[("password", "password")])?,
        }
    }
    let (csrf, _) = form_csrf(&parts.headers, state.secure_cookies);
    let (invited, problem) = invitation_or_problem(&state, &token).await?;
    let page = InvitationPage {
        layout: Layout::anonymous(csrf),
        token,
        invited,
        problem,
        form,
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}
