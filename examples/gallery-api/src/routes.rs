//! (method, path) → route, and the scope each route requires (SPEC "Resource servers").

/// Every endpoint of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `GET /.well-known/oauth-protected-resource` (RFC 9728), public.
    Metadata,
    /// `GET /.well-known/oauth-protected-resource/mcp`: the MCP endpoint's metadata, public.
    McpMetadata,
    /// `POST /mcp`: the MCP endpoint (`crate::mcp`); each tool checks its own scope.
    Mcp,
    Me,
    ListGalleries,
    CreateGallery,
    ListImages,
    CreateImage,
    Stats,
    ListWebhooks,
    CreateWebhook,
}

/// Why no route matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoRoute {
    NotFound,
    /// The path exists; `allow` lists its methods (RFC 9110 §15.5.6).
    MethodNotAllowed {
        allow: &'static str,
    },
    /// A CORS preflight for an existing path.
    Preflight {
        allow: &'static str,
    },
}

pub const METADATA_PATH: &str = "/.well-known/oauth-protected-resource";
pub const MCP_PATH: &str = "/mcp";
/// RFC 9728 §3.1: the metadata of resource `{origin}/mcp` is at the well-known path + `/mcp`.
pub const MCP_METADATA_PATH: &str = "/.well-known/oauth-protected-resource/mcp";

impl Route {
    /// The scope a token must carry; `None` for public routes.
    pub fn scope(self) -> Option<&'static str> {
        Some(match self {
            Route::Metadata | Route::McpMetadata | Route::Mcp => return None,
            Route::Me => "profile:read",
            Route::ListGalleries => "galleries:read",
            Route::CreateGallery => "galleries:write",
            Route::ListImages => "images:read",
            Route::CreateImage => "images:write",
            Route::Stats => "stats:read",
            Route::ListWebhooks => "webhooks:read",
            Route::CreateWebhook => "webhooks:write",
        })
    }
}

/// Matches a request. `HEAD` is not served (the API has no cacheable bodies).
pub fn route(method: &str, path: &str) -> Result<Route, NoRoute> {
    let (get, post, allow) = match path {
        METADATA_PATH => (Some(Route::Metadata), None, "GET, OPTIONS"),
        MCP_METADATA_PATH => (Some(Route::McpMetadata), None, "GET, OPTIONS"),
        // Streamable HTTP: no server-initiated stream (GET) and no session to end (DELETE),
        // so both are 405, which the transport allows.
        MCP_PATH => (None, Some(Route::Mcp), "POST, OPTIONS"),
        "/api/v1/me" => (Some(Route::Me), None, "GET, OPTIONS"),
        "/api/v1/galleries" => (
            Some(Route::ListGalleries),
            Some(Route::CreateGallery),
            "GET, POST, OPTIONS",
        ),
        "/api/v1/images" => (
            Some(Route::ListImages),
            Some(Route::CreateImage),
            "GET, POST, OPTIONS",
        ),
        "/api/v1/stats" => (Some(Route::Stats), None, "GET, OPTIONS"),
        "/api/v1/webhooks" => (
            Some(Route::ListWebhooks),
            Some(Route::CreateWebhook),
            "GET, POST, OPTIONS",
        ),
        _ => return Err(NoRoute::NotFound),
    };
    match method {
        "GET" => get,
        "POST" => post,
        "OPTIONS" => return Err(NoRoute::Preflight { allow }),
        _ => None,
    }
    .ok_or(NoRoute::MethodNotAllowed { allow })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_route_requires_the_documented_scope() {
        let cases = [
            ("GET", "/api/v1/me", "profile:read"),
            ("GET", "/api/v1/galleries", "galleries:read"),
            ("POST", "/api/v1/galleries", "galleries:write"),
            ("GET", "/api/v1/images", "images:read"),
            ("POST", "/api/v1/images", "images:write"),
            ("GET", "/api/v1/stats", "stats:read"),
            ("GET", "/api/v1/webhooks", "webhooks:read"),
            ("POST", "/api/v1/webhooks", "webhooks:write"),
        ];
        for (method, path, scope) in cases {
            assert_eq!(
                route(method, path).unwrap().scope(),
                Some(scope),
                "{method} {path}"
            );
        }
    }

    #[test]
    fn mcp_is_post_only_and_its_metadata_public() {
        assert_eq!(route("POST", MCP_PATH), Ok(Route::Mcp));
        assert_eq!(route("GET", MCP_METADATA_PATH), Ok(Route::McpMetadata));
        for method in ["GET", "DELETE"] {
            assert_eq!(
                route(method, MCP_PATH),
                Err(NoRoute::MethodNotAllowed {
                    allow: "POST, OPTIONS"
                })
            );
        }
    }

    #[test]
    fn metadata_is_public() {
        assert_eq!(route("GET", METADATA_PATH), Ok(Route::Metadata));
        assert_eq!(Route::Metadata.scope(), None);
    }

    #[test]
    fn unknown_paths_and_methods_are_told_apart() {
        assert_eq!(route("GET", "/api/v1/nope"), Err(NoRoute::NotFound));
        assert_eq!(route("GET", "/api/v1/me/"), Err(NoRoute::NotFound));
        assert_eq!(
            route("POST", "/api/v1/me"),
            Err(NoRoute::MethodNotAllowed {
                allow: "GET, OPTIONS"
            })
        );
        assert_eq!(
            route("DELETE", "/api/v1/galleries"),
            Err(NoRoute::MethodNotAllowed {
                allow: "GET, POST, OPTIONS"
            })
        );
        assert!(matches!(
            route("OPTIONS", "/api/v1/images"),
            Err(NoRoute::Preflight { .. })
        ));
    }
}
