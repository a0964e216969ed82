//! A refused form shown back: each problem next to the input it is about, what the person typed
//! kept, and a summary at the top whose links move focus to the input. Inputs are named by
//! their HTML id, so a page with one form per row keeps each row's values apart.

use crate::pages::PageResult;
use accredit_app::AppError;
use std::collections::HashMap;

#[derive(Debug, Default)]
pub(crate) struct FormState {
    values: HashMap<String, String>,
    /// (input id, or `None` for a problem about the form as a whole; message)
    problems: Vec<(Option<String>, String)>,
}

impl FormState {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Keeps what was typed into the input `id`.
    pub(crate) fn keep(mut self, id: impl Into<String>, value: impl Into<String>) -> Self {
        self.values.insert(id.into(), value.into());
        self
    }

    pub(crate) fn add(&mut self, id: Option<&str>, message: impl Into<String>) {
        self.problems.push((id.map(str::to_owned), message.into()));
    }

    /// Takes the problems of a refused use case. `inputs` maps the field a problem names
    /// (`links` also covers `links[2]`; `*` any field) to the input it is shown next to; other
    /// problems go in the summary. Errors that are not about the input stay errors.
    pub(crate) fn refused(mut self, error: AppError, inputs: &[(&str, &str)]) -> PageResult<Self> {
        match error {
            AppError::Invalid(problems) => {
                for problem in problems {
                    let input = inputs.iter().find(|(field, _)| {
                        *field == "*"
                            || problem.field == *field
                            || problem
                                .field
                                .strip_prefix(field)
                                .is_some_and(|rest| rest.starts_with('['))
                    });
                    match input {
                        // A catch-all input keeps the problem's own place (`line 3: ...`).
                        Some(("*", id)) => self.add(Some(id), problem.to_string()),
                        Some((_, id)) => self.add(Some(id), problem.message),
                        None => self.add(None, problem.to_string()),
                    }
                }
            }
            AppError::Conflict(why) => self.add(None, why),
            other => return Err(other.into()),
        }
        Ok(self)
    }

    pub(crate) fn is_refused(&self) -> bool {
        !self.problems.is_empty()
    }

    pub(crate) fn value(&self, id: &str) -> &str {
        self.values.get(id).map_or("", String::as_str)
    }

    /// The problems with the input `id`, joined, if any.
    pub(crate) fn message(&self, id: &str) -> Option<String> {
        let messages: Vec<&str> = self
            .problems
            .iter()
            .filter(|(input, _)| input.as_deref() == Some(id))
            .map(|(_, m)| m.as_str())
            .collect();
        (!messages.is_empty()).then(|| messages.join("; "))
    }

    /// Attributes that tie an input to its message for assistive technology.
    pub(crate) fn attrs(&self, id: &str) -> String {
        if self.message(id).is_some() {
            format!(r#" aria-invalid="true" aria-describedby="{id}-error""#)
        } else {
            String::new()
        }
    }

    /// Every problem for the summary: (input id to link to, message).
    pub(crate) fn summary(&self) -> &[(Option<String>, String)] {
        &self.problems
    }
}

/// Refuses text that is empty or longer than `max` characters, next to the input `id`.
pub(crate) fn check_length(form: &mut FormState, id: &str, label: &str, value: &str, max: usize) {
    if value.trim().is_empty() {
        form.add(Some(id), format!("{label} must not be empty"));
    } else {
        check_max_length(form, id, label, value, max);
    }
}

/// Refuses text longer than `max` characters, next to the input `id`; the use case judges the
/// rest.
pub(crate) fn check_max_length(
    form: &mut FormState,
    id: &str,
    label: &str,
    value: &str,
    max: usize,
) {
    let length = value.trim().chars().count();
    if length > max {
        form.add(
            Some(id),
            format!("{label} is {length} characters long; the most is {max}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use accredit_domain::InvalidInput;

    #[test]
    fn problems_land_next_to_their_input_and_the_rest_in_the_summary() {
        let error = AppError::Invalid(vec![
            InvalidInput::new("links[1]", "`x` is not a web address"),
            InvalidInput::new("email", "`a@` is not an address"),
            InvalidInput::new("partner", "unknown"),
        ]);
        let form = FormState::new()
            .keep("email", "a@")
            .refused(error, &[("links", "l-1"), ("email", "email")])
            .expect("invalid input is shown, not raised");
        assert_eq!(
            form.message("l-1").as_deref(),
            Some("`x` is not a web address")
        );
        assert_eq!(form.value("email"), "a@");
        assert!(
            form.attrs("email")
                .contains(r#"aria-describedby="email-error""#)
        );
        assert_eq!(form.attrs("other"), "");
        assert_eq!(form.summary().len(), 3);
        assert_eq!(form.summary()[2].0, None);
    }

    #[test]
    fn empty_and_too_long_text_is_refused_with_its_length() {
        let mut form = FormState::new();
        check_length(&mut form, "a", "Reason", "  ", 10);
        check_length(&mut form, "b", "Reason", "abcdefghijk", 10);
        check_length(&mut form, "c", "Reason", "fine", 10);
        assert_eq!(
            form.message("a").as_deref(),
            Some("Reason must not be empty")
        );
        assert_eq!(
            form.message("b").as_deref(),
            Some("Reason is 11 characters long; the most is 10")
        );
        assert_eq!(form.message("c"), None);
    }
}
