// @generated shape of `diesel print-schema` for migrations/; keep in step with them.
// `db::schema_check` runs both backends' migrations and fails on any table,
// column, type, nullability or primary key that differs from this file. Left
// out on purpose: SQLite's FTS5 index of block text (`blocks_fts`) and
// `blocks.seq`, its rowid, which only search's raw SQL names.

diesel::table! {
    access_tokens (jti) {
        jti -> Text,
        connection_id -> Text,
        family_id -> Text,
        scope -> Text,
        issued_at -> BigInt,
        expires_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    access_requests (id) {
        id -> Text,
        connection_id -> Text,
        via -> Text,
        reason -> Text,
        search -> Text,
        state -> Text,
        pages -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        answered_by -> Nullable<Text>,
        answered_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    approval_requests (workspace_id, integration_id, requested_by) {
        workspace_id -> Text,
        integration_id -> Text,
        requested_by -> Text,
        note -> Text,
        status -> Text,
        requested_at -> BigInt,
        answered_by -> Nullable<Text>,
        answered_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    approved_integrations (workspace_id, integration_id) {
        workspace_id -> Text,
        integration_id -> Text,
        approved_by -> Text,
        approved_at -> BigInt,
    }
}

diesel::table! {
    blocks (id) {
        id -> Text,
        page_id -> Text,
        position -> BigInt,
        #[sql_name = "type"]
        kind -> Text,
        rich_text -> Text,
        plain_text -> Text,
        checked -> Bool,
        language -> Nullable<Text>,
        created_at -> BigInt,
        created_by -> Text,
        created_by_kind -> Text,
        last_edited_at -> BigInt,
        last_edited_by -> Text,
        last_edited_by_kind -> Text,
        in_trash -> Bool,
    }
}

diesel::table! {
    blocked_clients (workspace_id, integration_id) {
        workspace_id -> Text,
        integration_id -> Text,
        blocked_by -> Text,
        blocked_at -> BigInt,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Integer,
        workspace_id -> Nullable<Text>,
        actor -> Nullable<Text>,
        action -> Text,
        target -> Text,
        detail -> Text,
        at -> BigInt,
    }
}

diesel::table! {
    auth_failures (key) {
        key -> Text,
        failures -> Integer,
        window_start -> BigInt,
    }
}

diesel::table! {
    authorization_codes (code_hash) {
        code_hash -> Text,
        integration_id -> Text,
        user_id -> Text,
        workspace_id -> Text,
        connection_id -> Text,
        redirect_uri -> Nullable<Text>,
        code_challenge -> Nullable<Text>,
        code_challenge_method -> Nullable<Text>,
        scope -> Text,
        family_id -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> BigInt,
        consumed_at -> Nullable<BigInt>,
        resource -> Text,
    }
}

diesel::table! {
    authorization_requests (id) {
        id -> Text,
        session_id_hash -> Text,
        integration_id -> Text,
        redirect_uri -> Text,
        redirect_uri_sent -> Bool,
        state -> Nullable<Text>,
        scope -> Text,
        code_challenge -> Nullable<Text>,
        code_challenge_method -> Nullable<Text>,
        workspace_id -> Nullable<Text>,
        csrf_binding -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        consumed_at -> Nullable<BigInt>,
        created_ms -> BigInt,
        resource -> Text,
    }
}

diesel::table! {
    connection_activity (id) {
        id -> Integer,
        connection_id -> Text,
        page_id -> Text,
        kind -> Text,
        surface -> Text,
        op -> Text,
        at -> BigInt,
        last_at -> BigInt,
        count -> BigInt,
        detail -> Text,
        read_key -> Nullable<Text>,
    }
}

diesel::table! {
    connection_pages (connection_id, page_id) {
        connection_id -> Text,
        page_id -> Text,
        added_by -> Text,
        added_at -> BigInt,
    }
}

diesel::table! {
    connections (id) {
        id -> Text,
        integration_id -> Text,
        workspace_id -> Text,
        installed_by -> Text,
        bot_id -> Text,
        status -> Text,
        created_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
        revoked_by -> Nullable<Text>,
        mcp_last_used_at -> Nullable<BigInt>,
        scope_version -> BigInt,
    }
}

diesel::table! {
    connection_scope (connection_id, page_id) {
        connection_id -> Text,
        page_id -> Text,
        trashed -> Bool,
    }
}

diesel::table! {
    integration_redirect_uris (integration_id, uri) {
        integration_id -> Text,
        uri -> Text,
    }
}

diesel::table! {
    integrations (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        client_id -> Text,
        client_secret_hash -> Nullable<Text>,
        client_type -> Text,
        developer_name -> Text,
        website_url -> Nullable<Text>,
        support_email -> Nullable<Text>,
        icon -> Nullable<Text>,
        first_party -> Bool,
        capabilities -> Text,
        created_by -> Nullable<Text>,
        workspace_id -> Nullable<Text>,
        created_at -> BigInt,
        privacy_url -> Nullable<Text>,
        terms_url -> Nullable<Text>,
        dynamic -> Bool,
        registration_token_hash -> Nullable<Text>,
        application_type -> Nullable<Text>,
        token_endpoint_auth_method -> Nullable<Text>,
        client_uri -> Nullable<Text>,
        logo_uri -> Nullable<Text>,
        cimd_expires_at -> Nullable<BigInt>,
        last_used_at -> Nullable<BigInt>,
        reviewed_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    client_tombstones (client_id) {
        client_id -> Text,
        name -> Text,
        purged_at -> BigInt,
    }
}

diesel::table! {
    internal_tokens (connection_id) {
        connection_id -> Text,
        hash -> Text,
        encrypted -> Text,
        created_at -> BigInt,
        shown_to_others -> Bool,
    }
}

diesel::table! {
    invitations (id) {
        id -> Text,
        workspace_id -> Text,
        email -> Text,
        role -> Text,
        token_hash -> Text,
        invited_by -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> BigInt,
        state -> Text,
        ended_at -> Nullable<BigInt>,
        accepted_by -> Nullable<Text>,
    }
}

diesel::table! {
    memberships (workspace_id, user_id) {
        workspace_id -> Text,
        user_id -> Text,
        role -> Text,
        joined_at -> BigInt,
    }
}

diesel::table! {
    pages (id) {
        id -> Text,
        workspace_id -> Text,
        parent_id -> Nullable<Text>,
        title -> Text,
        visibility -> Text,
        created_by -> Text,
        created_at -> BigInt,
        last_edited_at -> BigInt,
        in_trash -> Bool,
    }
}

diesel::table! {
    passkey_challenges (id) {
        id -> Text,
        purpose -> Text,
        bound_to -> Text,
        user_id -> Nullable<Text>,
        name -> Text,
        state -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    passkeys (id) {
        id -> Text,
        user_id -> Text,
        name -> Text,
        cred_id -> Text,
        credential -> Text,
        counter -> BigInt,
        created_at -> BigInt,
        last_used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    rate_buckets (connection_id) {
        connection_id -> Text,
        milli_tokens -> BigInt,
        updated_ms -> BigInt,
    }
}

diesel::table! {
    legacy_refresh_families (hash) {
        hash -> Text,
        family_id -> Text,
    }
}

diesel::table! {
    refresh_tokens (family_id, hash) {
        family_id -> Text,
        hash -> Text,
        scope -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
        resource -> Text,
    }
}

diesel::table! {
    token_families (id) {
        id -> Text,
        connection_id -> Text,
        created_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    sealed_keys (name) {
        name -> Text,
        key_sealed -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    used_notes (id) {
        id -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    sessions (id_hash) {
        id_hash -> Text,
        user_id -> Text,
        csrf_secret -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        created_ms -> BigInt,
        user_agent -> Nullable<Text>,
        address -> Nullable<Text>,
        last_seen_at -> BigInt,
        proved_at -> BigInt,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        avatar_url -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    workspaces (id) {
        id -> Text,
        name -> Text,
        icon -> Nullable<Text>,
        plan -> Text,
        install_policy -> Text,
        auto_approve_first_party -> Bool,
        created_at -> BigInt,
        created_by -> Nullable<Text>,
        scope_version -> BigInt,
        tree_version -> BigInt,
    }
}

diesel::table! {
    two_step (user_id) {
        user_id -> Text,
        secret_sealed -> Text,
        created_at -> BigInt,
        enabled_at -> Nullable<BigInt>,
        last_step -> BigInt,
        method -> Text,
    }
}

diesel::table! {
    password_off (user_id) {
        user_id -> Text,
        since -> BigInt,
    }
}

diesel::table! {
    recovery_codes (code_hash) {
        code_hash -> Text,
        user_id -> Text,
        created_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    pending_logins (id_hash) {
        id_hash -> Text,
        user_id -> Text,
        replaces -> Nullable<Text>,
        ip_key -> Text,
        ip_window -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    two_step_required (workspace_id) {
        workspace_id -> Text,
        set_by -> Nullable<Text>,
        set_at -> BigInt,
    }
}

diesel::joinable!(access_tokens -> connections (connection_id));
diesel::joinable!(access_requests -> connections (connection_id));
diesel::joinable!(approval_requests -> integrations (integration_id));
diesel::joinable!(approval_requests -> workspaces (workspace_id));
diesel::joinable!(approved_integrations -> integrations (integration_id));
diesel::joinable!(approved_integrations -> workspaces (workspace_id));
diesel::joinable!(blocked_clients -> integrations (integration_id));
diesel::joinable!(blocked_clients -> workspaces (workspace_id));
diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        private_sealed -> Text,
        created_at -> BigInt,
    }
}

diesel::joinable!(authorization_codes -> connections (connection_id));
diesel::joinable!(blocks -> pages (page_id));
diesel::joinable!(connection_activity -> connections (connection_id));
diesel::joinable!(rate_buckets -> connections (connection_id));
diesel::joinable!(connection_activity -> pages (page_id));
diesel::joinable!(connection_pages -> connections (connection_id));
diesel::joinable!(connection_scope -> connections (connection_id));
diesel::joinable!(connection_pages -> pages (page_id));
diesel::joinable!(connections -> integrations (integration_id));
diesel::joinable!(connections -> workspaces (workspace_id));
diesel::joinable!(integration_redirect_uris -> integrations (integration_id));
diesel::joinable!(internal_tokens -> connections (connection_id));
diesel::joinable!(invitations -> workspaces (workspace_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(memberships -> workspaces (workspace_id));
diesel::joinable!(pages -> workspaces (workspace_id));
diesel::joinable!(passkey_challenges -> users (user_id));
diesel::joinable!(passkeys -> users (user_id));
diesel::joinable!(refresh_tokens -> token_families (family_id));
diesel::joinable!(token_families -> connections (connection_id));
diesel::joinable!(legacy_refresh_families -> token_families (family_id));
diesel::joinable!(sessions -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    password_off,
    two_step,
    recovery_codes,
    pending_logins,
    two_step_required,
    access_tokens,
    access_requests,
    approval_requests,
    approved_integrations,
    audit_events,
    auth_failures,
    authorization_codes,
    authorization_requests,
    blocked_clients,
    client_tombstones,
    blocks,
    connection_activity,
    connection_pages,
    connection_scope,
    connections,
    integration_redirect_uris,
    integrations,
    internal_tokens,
    invitations,
    memberships,
    pages,
    passkey_challenges,
    passkeys,
    rate_buckets,
    refresh_tokens,
    token_families,
    legacy_refresh_families,
    sealed_keys,
    sessions,
    signing_keys,
    used_notes,
    users,
    workspaces,
);
