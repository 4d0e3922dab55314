//! Directives a subgraph puts on its schema for the router to read (composition keeps them
//! in the supergraph through `@composeDirective`).

/// `@sideEffect` on a field: resolving it changes something (it counts a view, spends a
/// quota), so the router sends every fetch that selects it on its own, never sharing one
/// fetch between identical requests. Its specification URL is the router's
/// `folio_router::plan::SIDE_EFFECT_SPEC` with a version.
#[allow(non_snake_case)]
#[async_graphql::TypeDirective(
    location = "FieldDefinition",
    composable = "https://specs.folio.dev/side-effect/v0.1"
)]
pub fn sideEffect() {}
