//! The OpenAPI 3 document, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::routes::{
    actions, analytics, auth, catalogue, claims, dispatch, events, knowledge, ops, queues, robot,
    tickets, time_rules, users,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "12345 hotline API",
        description = "Tickets of the 12345 government-service hotline: receive, dispatch down the five levels, handle, reply, visit, close. Errors are `{\"error\": {\"code\", \"message\", \"field\"}}`."
    ),
    paths(
        auth::login, auth::logout, auth::me,
        tickets::create, tickets::list, tickets::get,
        actions::answer, actions::dispatch, actions::sign, actions::pass_down, actions::return_ticket,
        actions::rule, actions::request_extension, actions::approve_extension, actions::deny_extension,
        actions::suspend, actions::resume, actions::reply, actions::return_visit, actions::rate,
        actions::redo, actions::supervise, actions::merge, actions::withdraw, actions::close,
        claims::claim, claims::release,
        events::after,
        catalogue::list_units, catalogue::get_unit, catalogue::create_unit, catalogue::update_unit,
        catalogue::list_categories, catalogue::create_category, catalogue::update_category,
        users::list, users::create, users::get, users::update,
        dispatch::list_rules, dispatch::get_rule, dispatch::create_rule, dispatch::update_rule,
        dispatch::delete_rule, dispatch::rule_audit, dispatch::suggest,
        ops::healthz, ops::readyz, ops::metrics,
        hotline_intake::routes::appeals::create,
        hotline_intake::routes::attachments::list, hotline_intake::routes::attachments::download,
        tickets::reveal,
        queues::get,
        time_rules::get, time_rules::put, time_rules::changes,
        knowledge::search, knowledge::list, knowledge::create, knowledge::get, knowledge::edit,
        knowledge::step, knowledge::versions, knowledge::diff_of, knowledge::log, knowledge::stats_of,
        robot::ask, robot::conversation, robot::transcript,
        analytics::summary, analytics::trend, analytics::rates, analytics::heatmap_hex,
        analytics::heatmap_areas, analytics::hot_issues, analytics::warnings, analytics::export,
        analytics::heatmap_picture, analytics::chart,
    ),
    components(schemas(hotline_core::error::ErrorBody, hotline_core::error::ErrorDetail)),
    modifiers(&BearerAuth, &ErrorResponses),
    tags(
        (name = "tickets", description = "Register, list and read tickets"),
        (name = "actions", description = "The transitions of the closed loop"),
        (name = "events", description = "The ordered event stream"),
        (name = "org", description = "The five-level org tree"),
        (name = "catalogue", description = "Appeal categories"),
        (name = "users", description = "Staff accounts"),
        (name = "dispatch", description = "Routing rules and dispatch suggestions"),
        (name = "auth", description = "Sessions and tokens"),
        (name = "ops", description = "Health, readiness, metrics"),
        (name = "time", description = "Time limits, windows and working hours"),
        (name = "knowledge", description = "The knowledge base: search, articles, review and publishing"),
        (name = "robot", description = "The citizens' Q&A robot (public, held by a conversation token) and its transcripts"),
        (name = "analytics", description = "Rollups, rates and rankings, heat maps (GeoJSON, SVG, PNG), hot issues and early warnings"),
        (name = "intake", description = "Appeals from registered apps and mini-programs (signed)"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

/// The error statuses every operation can answer, with the one error body (see the README's error
/// table): documented once here rather than on every handler.
struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/api/") {
                continue;
            }
            let public = path == "/api/v1/auth/login";
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                let mut codes = vec![
                    ("401", "no or ended session"),
                    ("422", "a field is refused; `field` names it"),
                    ("500", "unexpected failure (logged)"),
                ];
                if !public {
                    codes.extend([
                        ("403", "the role may not"),
                        ("404", "nothing there, or outside the caller's scope"),
                    ]);
                }
                if op.request_body.is_some() {
                    codes.extend([
                        ("400", "not JSON"),
                        ("413", "body too large"),
                        ("415", "not application/json"),
                    ]);
                    if !public {
                        codes.push((
                            "409",
                            "invalid transition, stale version, or a taken unique value",
                        ));
                    }
                }
                if public {
                    codes.push(("423", "account locked after failed logins"));
                }
                for (code, description) in codes {
                    op.responses
                        .responses
                        .entry(code.to_owned())
                        .or_insert_with(|| {
                            ResponseBuilder::new()
                                .description(description)
                                .content(
                                    "application/json",
                                    ContentBuilder::new()
                                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                                        .build(),
                                )
                                .build()
                                .into()
                        });
                }
            }
        }
    }
}
