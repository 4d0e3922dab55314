//! Tests of the planning layer: hand-written federated supergraphs (`fixtures/`, composed
//! by `fixtures/compose.mjs`) and Folio's own supergraph (`schema.graphql`).

use super::nodes::{FetchNode, PlanNode};
use super::*;
use std::sync::Arc;

/// users + content + interactions: @key, @shareable, @external/@requires, @provides,
/// @inaccessible, an interface (`FeedItem`), a union (`SearchResult`), a subscription.
const SOCIAL: &str = include_str!("fixtures/social.supergraph.graphql");
/// Folio's real supergraph (`schema.graphql`).
const FOLIO: &str = include_str!("../../../schema.graphql");
const INTROSPECTION: &str = include_str!("fixtures/introspection.graphql");
const INTROSPECTION_FULL: &str = include_str!("fixtures/introspection_query.graphql");

fn social() -> HivePlanner {
    HivePlanner::from_supergraph_sdl(SOCIAL).expect("the social supergraph loads")
}

fn plan(planner: &HivePlanner, query: &str) -> Arc<Planned> {
    planner
        .plan(&PlanRequest::new(query, None))
        .unwrap_or_else(|e| panic!("{query} does not plan: {e:?}"))
}

fn plan_err(planner: &HivePlanner, query: &str, operation_name: Option<&str>) -> PlanError {
    match planner.plan(&PlanRequest::new(query, operation_name)) {
        Ok(p) => panic!("{query} planned:\n{}", p.plan_pretty()),
        Err(e) => e,
    }
}

fn root(planned: &Planned) -> &PlanNode {
    planned
        .plan
        .node
        .as_ref()
        .expect("the plan fetches something")
}

fn sequence(node: &PlanNode) -> &[PlanNode] {
    &node.as_sequence().expect("a Sequence").nodes
}

fn fetch(node: &PlanNode) -> &FetchNode {
    node.as_fetch().expect("a Fetch")
}

/// A Flatten's path (as the planner prints it) and its entity fetch.
fn flatten(node: &PlanNode) -> (String, &FetchNode) {
    let flatten = node.as_flatten().expect("a Flatten");
    (flatten.path.to_string(), fetch(&flatten.node))
}

fn requires_text(fetch: &FetchNode) -> String {
    serde_json::to_string(
        fetch
            .requires
            .as_ref()
            .expect("an entity fetch has requires"),
    )
    .expect("requires serialize")
}

fn introspect(planner: &HivePlanner, query: &str) -> serde_json::Value {
    introspect_with(planner, query, serde_json::Map::new())
}

fn introspect_with(
    planner: &HivePlanner,
    query: &str,
    variables: serde_json::Map<String, serde_json::Value>,
) -> serde_json::Value {
    let planned = plan(planner, query);
    let part = planned
        .introspection
        .as_ref()
        .expect("an introspection part");
    let result = planner.introspection().execute(&part.operation, &variables);
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    result.data
}

fn type_named<'a>(data: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    data["__schema"]["types"]
        .as_array()
        .expect("types")
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no type {name}"))
}

fn field_named<'a>(ty: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    ty["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no field {name}"))
}

#[test]
fn a_query_spanning_two_subgraphs_is_a_fetch_then_an_entity_fetch() {
    let planned = plan(&social(), r#"{ post(id: "1") { title author { name } } }"#);
    assert_eq!(planned.kind, OperationKind::Query);
    let steps = sequence(root(&planned));
    assert_eq!(steps.len(), 2, "{}", planned.plan_pretty());

    let first = fetch(&steps[0]);
    assert_eq!(first.service_name, "content");
    assert!(first.requires.is_none());
    assert_eq!(
        first.operation.document_str,
        r#"{post(id: "1"){title author{__typename id}}}"#
    );

    let (path, entities) = flatten(&steps[1]);
    assert_eq!(path, "post.author");
    assert_eq!(entities.service_name, "users");
    assert_eq!(
        entities.operation.document_str,
        "query($representations:[_Any!]!){_entities(representations: $representations){...on User{name}}}"
    );
    let requires = requires_text(entities);
    assert!(requires.contains(r#""typeCondition":"User""#), "{requires}");
    assert!(requires.contains(r#""name":"id""#), "{requires}");
    assert!(planned.subgraphs.contains_key("content") && planned.subgraphs.contains_key("users"));
}

#[test]
fn a_requires_field_gets_its_required_fields_in_the_representation() {
    let planned = plan(&social(), "{ me { byline } }");
    let steps = sequence(root(&planned));
    assert_eq!(steps.len(), 2, "{}", planned.plan_pretty());

    // users is asked for the field content @requires, along with the key…
    let first = fetch(&steps[0]);
    assert_eq!(first.service_name, "users");
    assert_eq!(first.operation.document_str, "{me{__typename id name}}");

    // …and content gets it in the representation.
    let (path, entities) = flatten(&steps[1]);
    assert_eq!(path, "me");
    assert_eq!(entities.service_name, "content");
    assert!(
        entities
            .operation
            .document_str
            .contains("...on User{byline}")
    );
    let requires = requires_text(entities);
    for field in ["__typename", "id", "name"] {
        assert!(
            requires.contains(&format!(r#""name":"{field}""#)),
            "{requires}"
        );
    }
}

#[test]
fn provides_spares_the_entity_fetch() {
    let planned = plan(
        &social(),
        "{ topComments(first: 3) { text author { name } } }",
    );
    let only = fetch(root(&planned));
    assert_eq!(only.service_name, "interactions");
    assert_eq!(
        only.operation.document_str,
        "{topComments(first: 3){text author{name}}}"
    );
}

#[test]
fn union_members_are_completed_from_their_own_subgraphs() {
    let planned = plan(
        &social(),
        r#"{ search(text: "x") { ... on Post { title likes } ... on Photo { url } } }"#,
    );
    let steps = sequence(root(&planned));
    assert_eq!(fetch(&steps[0]).service_name, "content");
    let (path, entities) = flatten(&steps[1]);
    assert_eq!(path, "search.@|[Post]");
    assert_eq!(entities.service_name, "interactions");
    assert_eq!(
        serde_json::to_value(&steps[1]).expect("a node serializes")["path"],
        serde_json::json!([{ "Field": "search" }, "@", { "TypeCondition": ["Post"] }])
    );
}

#[test]
fn an_interface_list_fans_out_in_parallel() {
    let planned = plan(
        &social(),
        "{ feed { id author { name } ... on Post { likes } } }",
    );
    let steps = sequence(root(&planned));
    assert_eq!(fetch(&steps[0]).service_name, "content");
    let parallel = &steps[1].as_parallel().expect("a Parallel").nodes;
    let mut targets: Vec<(String, String)> = parallel
        .iter()
        .map(|n| {
            let (path, f) = flatten(n);
            (path, f.service_name.clone())
        })
        .collect();
    targets.sort();
    assert_eq!(
        targets,
        [
            ("feed.@.author".to_string(), "users".to_string()),
            ("feed.@|[Post]".to_string(), "interactions".to_string()),
        ]
    );
}

#[test]
fn include_with_a_variable_becomes_a_condition_node() {
    let planned = plan(
        &social(),
        r#"query($withLikes: Boolean!) { post(id: "1") { title likes @include(if: $withLikes) } }"#,
    );
    let pretty = planned.plan_pretty();
    let steps = sequence(root(&planned));
    let condition = steps[1].as_condition().expect("a Condition");
    assert_eq!(condition.condition, "withLikes", "{pretty}");
    assert!(condition.if_clause.is_some() && condition.else_clause.is_none());
}

#[test]
fn a_mutation_is_planned_as_a_mutation() {
    let planned = plan(
        &social(),
        "mutation Post($input: NewPost!) { createPost(input: $input) { id author { name } } }",
    );
    assert_eq!(planned.kind, OperationKind::Mutation);
    assert_eq!(planned.root_type_name(), "Mutation");
    assert_eq!(planned.operation_name.as_deref(), Some("Post"));
    let steps = sequence(root(&planned));
    let first = fetch(&steps[0]);
    assert_eq!(first.service_name, "content");
    assert_eq!(
        first.operation_kind,
        Some(hive_router_query_planner::state::supergraph_state::OperationKind::Mutation)
    );
    assert!(
        first
            .operation
            .document_str
            .starts_with("mutation($input:NewPost!)")
    );
    assert_eq!(
        first
            .variable_usages
            .as_ref()
            .map(|v| v.iter().cloned().collect::<Vec<_>>()),
        Some(vec!["input".to_string()])
    );
    // The author's name is an entity fetch, which is always a query.
    let (_, entities) = flatten(&steps[1]);
    assert_eq!(entities.service_name, "users");
    assert!(entities.operation.document_str.starts_with("query("));
}

#[test]
fn inaccessible_fields_fail_validation() {
    let planner = social();
    let e = plan_err(&planner, "{ me { riskScore } }", None);
    assert_eq!(e.code(), "GRAPHQL_VALIDATION_FAILED");
    let PlanError::Validation(details) = &e else {
        panic!("{e:?}");
    };
    assert!(details[0].message.contains("riskScore"), "{details:?}");
    assert_eq!(details[0].locations, [Location { line: 1, column: 8 }]);
    assert!(!planner.api_schema_sdl().contains("riskScore"));
}

#[test]
fn parse_errors_are_parse_failures_with_a_location() {
    let e = plan_err(&social(), "{ me { id }", None);
    assert_eq!(e.code(), "GRAPHQL_PARSE_FAILED");
    let PlanError::Parse(detail) = &e else {
        panic!("{e:?}");
    };
    assert!(detail.message.starts_with("Syntax Error"), "{detail:?}");
    assert_eq!(detail.locations.len(), 1);
    assert_eq!(detail.locations[0].line, 1);
}

#[test]
fn validation_errors_carry_messages_and_locations() {
    let e = plan_err(&social(), "query {\n  me { nope }\n  post { id }\n}", None);
    assert_eq!(e.code(), "GRAPHQL_VALIDATION_FAILED");
    let details = e.details();
    assert_eq!(details.len(), 2, "{details:?}");
    assert!(details.iter().any(|d| d.message.contains("nope")
        && d.locations == [Location { line: 2, column: 8 }]));
    assert!(
        details
            .iter()
            .any(|d| d.message.contains("\"id\"")
                && d.locations == [Location { line: 3, column: 3 }])
    );
    // Each detail serializes as a GraphQL error would.
    let json = serde_json::to_value(&details[0]).expect("serializes");
    assert!(json["message"].is_string() && json["locations"][0]["line"].is_number());
}

#[test]
fn variables_are_validated() {
    let e = plan_err(&social(), "query($id: ID) { post(id: $id) { id } }", None);
    assert_eq!(e.code(), "GRAPHQL_VALIDATION_FAILED");
    let e = plan_err(&social(), "{ post(id: $id) { id } }", None);
    assert_eq!(e.code(), "GRAPHQL_VALIDATION_FAILED");
}

#[test]
fn a_missing_root_type_is_a_validation_error() {
    let folio = HivePlanner::from_supergraph_sdl(FOLIO).expect("Folio's supergraph loads");
    let e = plan_err(&folio, "subscription { me { id } }", None);
    assert_eq!(e.code(), "GRAPHQL_VALIDATION_FAILED", "{e:?}");
}

#[test]
fn a_subscription_is_a_subscription_node_then_entity_fetches_per_event() {
    let planned = plan(
        &social(),
        "subscription { postAdded { title likes author { name } } }",
    );
    assert_eq!(planned.kind, OperationKind::Subscription);
    let steps = sequence(root(&planned));
    let primary = &steps[0].as_subscription().expect("a Subscription").primary;
    assert_eq!(primary.service_name, "content");
    assert!(
        primary
            .operation
            .document_str
            .starts_with("subscription{postAdded{")
    );
    let mut targets: Vec<(String, String)> = steps[1]
        .as_parallel()
        .expect("a Parallel")
        .nodes
        .iter()
        .map(|n| {
            let (path, f) = flatten(n);
            (path, f.service_name.clone())
        })
        .collect();
    targets.sort();
    assert_eq!(
        targets,
        [
            ("postAdded".to_string(), "interactions".to_string()),
            ("postAdded.author".to_string(), "users".to_string()),
        ]
    );
    // The root of a subscription is never introspection.
    let e = plan_err(
        &social(),
        "subscription { __typename postAdded { id } }",
        None,
    );
    assert_eq!(e.code(), "GRAPHQL_VALIDATION_FAILED");
}

#[test]
fn planners_and_plans_are_shared_across_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<HivePlanner>();
    send_sync::<Planned>();
    send_sync::<Introspection>();
    send_sync::<IntrospectionPart>();
    let planner: Arc<dyn QueryPlanner> = Arc::new(social());
    let planned = planner
        .plan(&PlanRequest::new("{ __typename }", None))
        .expect("plans");
    let vars = serde_json::Map::new();
    // Introspection runs on whichever thread the request is on.
    let result = std::thread::scope(|s| {
        s.spawn(|| {
            let part = planned.introspection.as_ref().expect("a part");
            planner.introspection().execute(&part.operation, &vars)
        })
        .join()
        .expect("the thread runs")
    });
    assert_eq!(result.data, serde_json::json!({ "__typename": "Query" }));
}

#[test]
fn operation_selection_follows_the_operation_name() {
    let planner = social();
    let doc = "query A { me { id } } mutation B { rename(name: \"x\") { id } }";
    let e = plan_err(&planner, doc, None);
    assert_eq!(e.code(), "BAD_REQUEST");
    assert!(matches!(e, PlanError::OperationSelection(_)));
    let e = plan_err(&planner, doc, Some("C"));
    assert_eq!(e.code(), "BAD_REQUEST");
    assert!(e.to_string().contains("\"C\""));

    let b = planner
        .plan(&PlanRequest::new(doc, Some("B")))
        .expect("B plans");
    assert_eq!(b.kind, OperationKind::Mutation);
    assert_eq!(fetch(root(&b)).service_name, "users");
    let a = planner
        .plan(&PlanRequest::new(doc, Some("A")))
        .expect("A plans");
    assert_eq!(a.kind, OperationKind::Query);
    // An empty name is no name.
    let one = planner
        .plan(&PlanRequest::new("{ me { id } }", Some("")))
        .expect("plans");
    assert_eq!(one.kind, OperationKind::Query);
}

#[test]
fn the_cache_shares_plans_by_text_and_by_normalized_operation() {
    let planner = social();
    let first = plan(&planner, "query Me { me { id name } }");
    let again = plan(&planner, "query Me { me { id name } }");
    assert!(Arc::ptr_eq(&first, &again));
    // Written differently, normalized the same: the same plan.
    let spelled = plan(
        &planner,
        "query Me {\n  me { ...F }\n}\nfragment F on User { id name id }",
    );
    assert!(Arc::ptr_eq(&first, &spelled));
    assert_eq!(planner.cached_plans(), 1);

    // Another operation name is another entry.
    let doc = "query A { me { id } } query B { me { id } }";
    let a = planner.plan(&PlanRequest::new(doc, Some("A"))).expect("A");
    let b = planner.plan(&PlanRequest::new(doc, Some("B"))).expect("B");
    assert!(!Arc::ptr_eq(&a, &b));
    assert_eq!(b.operation_name.as_deref(), Some("B"));
    let a2 = planner.plan(&PlanRequest::new(doc, Some("A"))).expect("A");
    assert!(Arc::ptr_eq(&a, &a2));
}

#[test]
fn the_cache_is_bounded() {
    let planner = HivePlanner::with_options(
        SOCIAL,
        HivePlannerOptions {
            cache_capacity: std::num::NonZeroUsize::new(2).expect("non-zero"),
            ..HivePlannerOptions::default()
        },
    )
    .expect("loads");
    let first = plan(&planner, "{ me { id } }");
    plan(&planner, "{ me { name } }");
    plan(&planner, "{ me { email } }");
    assert_eq!(planner.cached_plans(), 2);
    // The first was evicted: planning it again builds a new plan.
    assert!(!Arc::ptr_eq(&first, &plan(&planner, "{ me { id } }")));
}

#[test]
fn a_panic_while_planning_is_an_internal_error() {
    let e = hive::guarded(|| -> Result<(), PlanError> { panic!("planner bug") })
        .expect_err("a panic is an error");
    assert_eq!(e.code(), "INTERNAL_SERVER_ERROR");
    assert!(e.to_string().contains("planner bug"), "{e}");
    // Clients see a generic message.
    assert!(!e.details()[0].message.contains("planner bug"));
}

#[test]
fn the_api_schema_hides_federation_internals() {
    let planner = social();
    let sdl = planner.api_schema_sdl();
    for hidden in [
        "join__",
        "link__",
        "@link",
        "@inaccessible",
        "__Schema",
        "__schema",
    ] {
        assert!(!sdl.contains(hidden), "{hidden} in\n{sdl}");
    }
    assert!(sdl.contains("legacyHandle: String @deprecated(reason: \"use name\")"));
    let api = planner.api_schema();
    assert!(api.is_possible_type("FeedItem", "Post"));
    assert!(api.is_possible_type("SearchResult", "Photo"));
    assert!(!api.is_possible_type("SearchResult", "User"));
    assert!(api.is_possible_type("User", "User"));
    assert_eq!(
        api.possible_types("FeedItem").collect::<Vec<_>>(),
        ["Photo", "Post"]
    );
    assert_eq!(api.type_kind("SearchResult"), Some(TypeKind::Union));
    assert_eq!(
        api.field_type("User", "email").map(|t| t.to_string()),
        Some("String".into())
    );
    assert_eq!(
        api.field_type("Post", "__typename").map(|t| t.to_string()),
        Some("String!".into())
    );
    assert_eq!(api.field_type("User", "riskScore"), None);
    assert_eq!(
        api.root_type_name(OperationKind::Subscription),
        Some("Subscription")
    );
    assert_eq!(
        planner.subgraphs().get("interactions").map(String::as_str),
        Some("http://interactions.test/graphql")
    );
}

#[test]
fn folio_supergraph_plans_to_a_single_fetch_to_users() {
    let planner = HivePlanner::from_supergraph_sdl(FOLIO).expect("Folio's supergraph loads");
    let planned = plan(&planner, "{ me { id followers { totalCount } } }");
    let only = fetch(root(&planned));
    assert_eq!(only.service_name, "users");
    assert_eq!(
        only.operation.document_str,
        "{me{id followers{totalCount}}}"
    );
    assert_eq!(
        planned.subgraphs.get("users").map(String::as_str),
        Some("http://127.0.0.1:4001/graphql")
    );
    let json = planned.plan_json();
    assert_eq!(json["node"]["kind"], "Fetch");
    assert_eq!(json["node"]["serviceName"], "users");
    assert!(planned.plan_pretty().contains("Fetch(service: \"users\")"));
}

#[test]
fn introspection_is_answered_from_the_api_schema() {
    for (supergraph, extra_type, subscription) in [
        (
            SOCIAL,
            "SearchResult",
            serde_json::json!({ "name": "Subscription", "kind": "OBJECT" }),
        ),
        (FOLIO, "UserConnection", serde_json::Value::Null),
    ] {
        let planner = HivePlanner::from_supergraph_sdl(supergraph).expect("loads");
        for query in [INTROSPECTION, INTROSPECTION_FULL] {
            let planned = plan(&planner, query);
            assert!(planned.plan.node.is_none(), "nothing to fetch");
            let data = introspect(&planner, query);
            let text = data.to_string();
            for hidden in [
                "join__",
                "link__",
                "riskScore",
                "_Any",
                "_entities",
                "_service",
            ] {
                assert!(!text.contains(hidden), "{hidden} leaked");
            }
            assert_eq!(data["__schema"]["queryType"]["name"], "Query");
            assert_eq!(data["__schema"]["mutationType"]["name"], "Mutation");
            assert_eq!(data["__schema"]["subscriptionType"], subscription);
            let user = type_named(&data, "User");
            assert_eq!(user["kind"], "OBJECT");
            let email = field_named(user, "email");
            assert_eq!(email["type"]["kind"], "SCALAR");
            assert_eq!(email["type"]["name"], "String");
            let id = field_named(user, "id");
            assert_eq!(id["type"]["kind"], "NON_NULL");
            assert_eq!(id["type"]["ofType"]["name"], "ID");
            type_named(&data, extra_type);
            type_named(&data, "__Schema");
        }
    }
}

#[test]
fn introspection_mirrors_descriptions_deprecations_defaults_and_abstract_types() {
    let planner = social();
    let data = introspect(&planner, INTROSPECTION_FULL);
    let user = type_named(&data, "User");
    assert_eq!(
        field_named(user, "email")["description"],
        "Only the user themself sees it."
    );
    let legacy = field_named(user, "legacyHandle");
    assert_eq!(legacy["isDeprecated"], true);
    assert_eq!(legacy["deprecationReason"], "use name");
    let new_post = type_named(&data, "NewPost");
    let visibility = new_post["inputFields"]
        .as_array()
        .expect("input fields")
        .iter()
        .find(|f| f["name"] == "visibility")
        .expect("visibility");
    assert_eq!(visibility["defaultValue"], "PUBLIC");
    let feed = field_named(type_named(&data, "Query"), "feed");
    assert_eq!(feed["args"][0]["defaultValue"], "10");
    let mut possible: Vec<String> = type_named(&data, "FeedItem")["possibleTypes"]
        .as_array()
        .expect("possible types")
        .iter()
        .map(|t| t["name"].as_str().unwrap_or_default().to_string())
        .collect();
    possible.sort();
    assert_eq!(possible, ["Photo", "Post"]);
    assert_eq!(type_named(&data, "SearchResult")["kind"], "UNION");
    assert_eq!(type_named(&data, "Visibility")["kind"], "ENUM");
}

#[test]
fn typename_and_type_lookups_at_the_root() {
    let planner = social();
    assert_eq!(
        introspect(&planner, "{ __typename }"),
        serde_json::json!({ "__typename": "Query" })
    );
    assert_eq!(
        introspect(&planner, "mutation { __typename }"),
        serde_json::json!({ "__typename": "Mutation" })
    );
    let mut vars = serde_json::Map::new();
    vars.insert("name".into(), "Comment".into());
    let data = introspect_with(
        &planner,
        "query T($name: String!) { t: __type(name: $name) { name fields { name } } }",
        vars,
    );
    assert_eq!(data["t"]["name"], "Comment");
    assert_eq!(
        introspect(&planner, r#"{ __type(name: "join__Graph") { name } }"#),
        serde_json::json!({ "__type": null })
    );
}

#[test]
fn mixed_operations_split_introspection_from_the_plan() {
    let planner = social();
    let query = r#"query Q($x: Boolean!) { __typename me @include(if: $x) { id } __type(name: "User") { name } }"#;
    let planned = plan(&planner, query);
    let only = fetch(root(&planned));
    assert_eq!(only.service_name, "users");
    assert!(!only.operation.document_str.contains("__type"));
    let part = planned
        .introspection
        .as_ref()
        .expect("an introspection part");
    // The introspection part does not declare $x, which it does not use.
    let text = part.operation.to_string();
    assert!(!text.contains("$x"), "{text}");
    assert!(part.introspects_schema());
    let mut vars = serde_json::Map::new();
    vars.insert("x".into(), true.into());
    let result = planner.introspection().execute(&part.operation, &vars);
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    assert_eq!(
        result.data,
        serde_json::json!({ "__typename": "Query", "__type": { "name": "User" } })
    );
    // The full normalized operation keeps every root field, for projection.
    let text = planned.operation.to_string();
    assert!(text.contains("__typename") && text.contains("me @include(if: $x)"));
}

#[test]
fn introspection_errors_are_reported() {
    let planner = social();
    let planned = plan(&planner, "query($n: String!) { __type(name: $n) { name } }");
    let part = planned.introspection.as_ref().expect("a part");
    let result = planner
        .introspection()
        .execute(&part.operation, &serde_json::Map::new());
    assert!(result.data.is_null());
    assert_eq!(result.errors.len(), 1);
    assert!(result.errors[0]["message"].is_string());
}

#[test]
fn an_operation_the_planner_cannot_plan_is_a_client_error() {
    // Out of planning time (here: none at all) is no fault of the router: the operation
    // cannot be served, which the client learns with its own code and a 4xx.
    let planner = HivePlanner::with_options(
        SOCIAL,
        HivePlannerOptions {
            planning_timeout: std::time::Duration::ZERO,
            ..HivePlannerOptions::default()
        },
    )
    .expect("loads");
    let e = plan_err(&planner, "{ me { name byline } }", None);
    assert_eq!(e.code(), "QUERY_PLANNING_FAILED", "{e:?}");
    let status = crate::error::RouterError::Plan(e)
        .status(crate::pipeline::http::ResponseFormat::GraphQLResponseJson);
    assert_eq!(status.as_u16(), 400);
}
