//! The world most tests start from: Ada and Grace, Acme (enterprise, both
//! members) and Ada's notebook, a page tree with private pages, and five
//! registered clients of every kind.

use pagegrant::db::models::{IntegrationKind, Page, Plan, Role, User, Workspace};
use pagegrant::domain::integrations::{self, Created, NewIntegration};

use super::server::TestServer;
use super::CB;

pub struct Fx {
    pub srv: TestServer,
    pub ada: User,
    pub grace: User,
    pub acme: Workspace,
    pub notebook: Workspace,
    pub eng: Page,
    pub roadmap: Page,
    pub ada_private: Page,
    pub grace_private: Page,
    pub notebook_page: Page,
    /// Confidential, one redirect URI (CB).
    pub conf: Created,
    /// Confidential, two redirect URIs.
    pub multi: Created,
    /// A redirect URI with its own query.
    pub query: Created,
    /// Public client on a loopback redirect URI.
    pub public: Created,
    /// First-party.
    pub first: Created,
}

pub fn register(
    srv: &TestServer,
    name: &str,
    uris: &[&str],
    public: bool,
    first_party: bool,
) -> Created {
    integrations::register(
        &mut srv.conn(),
        &srv.sbox,
        NewIntegration {
            name: name.into(),
            kind: Some(IntegrationKind::Public),
            redirect_uris: uris.iter().map(|u| u.to_string()).collect(),
            public_client: public,
            first_party,
            developer_name: Some(format!("{name} Labs")),
            capabilities: vec![
                "read_content".into(),
                "update_content".into(),
                "read_user_with_email".into(),
            ],
            ..Default::default()
        },
    )
    .expect("register")
}

pub fn fixture() -> Fx {
    fixture_with(|_| {})
}

/// `fixture` on a server with configuration tweaks.
pub fn fixture_with(tweak: impl FnOnce(&mut pagegrant::config::Config)) -> Fx {
    let srv = TestServer::start_with(tweak);
    let ada = srv.user("ada@example.com", "Ada");
    let grace = srv.user("grace@example.com", "Grace");
    let acme = srv.workspace("Acme Corp", &ada, Plan::Enterprise);
    srv.member(&acme, &grace, Role::Member);
    let notebook = srv.workspace("Ada Notebook", &ada, Plan::Free);
    let eng = srv.page(&acme, &ada, "Engineering", None, false);
    let roadmap = srv.page(&acme, &ada, "Roadmap", Some(&eng), false);
    let ada_private = srv.page(&acme, &ada, "Ada Secret Zebra", None, true);
    let grace_private = srv.page(&acme, &grace, "Grace Scratch Quokka", None, true);
    let notebook_page = srv.page(&notebook, &ada, "Recipes", None, false);
    let conf = register(&srv, "Partner <b>App</b>", &[CB], false, false);
    let multi = register(
        &srv,
        "Multi",
        &["https://multi.example/cb", "https://multi.example/other"],
        false,
        false,
    );
    let query = register(
        &srv,
        "Query",
        &["https://q.example/cb?x=1&y=%2F"],
        false,
        false,
    );
    let public = register(&srv, "Mobile", &["http://127.0.0.1/cb"], true, false);
    let first = register(&srv, "GitHub", &["https://github.example/cb"], false, true);
    Fx {
        srv,
        ada,
        grace,
        acme,
        notebook,
        eng,
        roadmap,
        ada_private,
        grace_private,
        notebook_page,
        conf,
        multi,
        query,
        public,
        first,
    }
}

/// The actions in the audit log.
pub fn audit_actions(fx: &Fx) -> Vec<String> {
    use diesel::prelude::*;
    use pagegrant::db::schema::audit_events;
    audit_events::table
        .select(audit_events::action)
        .load(&mut fx.srv.conn())
        .expect("audit")
}

/// The fixture plus 128 internal integrations Ada made in Acme ("Bot 001"
/// … "Bot 128"), Partner connected by Ada and Grace, "Docs Hub" (another
/// partner on CB) by Grace: 130
/// integrations in Acme's Settings → Connections, 131 connections
/// (issue 27's lists at scale).
pub fn big_world() -> Fx {
    let fx = fixture();
    {
        let mut c = fx.srv.conn();
        for n in 1..=128 {
            pagegrant::domain::connections::create_internal(
                &mut c,
                &fx.srv.sbox,
                &fx.acme,
                Role::Owner,
                &fx.ada.id,
                &format!("Bot {n:03}"),
            )
            .expect("internal");
        }
        // One creation second for all of them, so lists ordered newest first
        // fall back to their name order whatever second the loop crossed.
        use diesel::prelude::*;
        use pagegrant::db::schema::integrations::dsl as i;
        diesel::update(i::integrations.filter(i::name.like("Bot %")))
            .set(i::created_at.eq(pagegrant::db::models::now()))
            .execute(&mut c)
            .expect("one creation second");
    }
    let ws = fx.acme.id.to_string();
    super::consent::connect(&fx, "ada@example.com", &ws, &[&fx.eng]);
    super::consent::connect(&fx, "grace@example.com", &ws, &[&fx.eng]);
    let docs = register(&fx.srv, "Docs Hub", &[super::CB], false, false);
    super::consent::connect_with(&fx, &docs, "grace@example.com", &ws, &[&fx.eng]);
    fx
}
