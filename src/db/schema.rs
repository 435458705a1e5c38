// Portable column types only (Text, Timestamp, Integer, BigInt, Bool,
// Binary), so one schema serves SQLite and PostgreSQL.

diesel::table! {
    municipalities (id) {
        id -> Text,
        name_el -> Text,
        name_en -> Text,
        contact_email -> Text,
        time_zone -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    departments (id) {
        id -> Text,
        municipality_id -> Text,
        name_el -> Text,
        name_en -> Text,
        email -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    service_categories (id) {
        id -> Text,
        department_id -> Text,
        name_el -> Text,
        name_en -> Text,
        description_el -> Text,
        description_en -> Text,
        duration_minutes -> Integer,
        serves_legal_entities -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    service_documents (id) {
        id -> Text,
        service_id -> Text,
        purpose -> Text,
        position -> Integer,
        name_el -> Text,
        name_en -> Text,
    }
}

diesel::table! {
    login_states (state_hash) {
        state_hash -> Text,
        pkce_verifier -> Text,
        return_to -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        token_hash -> Text,
        afm -> Text,
        first_name -> Text,
        last_name -> Text,
        father_name -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        strong_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    otp_codes (session_id) {
        session_id -> Text,
        code_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        failed_attempts -> Integer,
        consumed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    otp_throttle (afm) {
        afm -> Text,
        window_start -> Timestamp,
        sent_in_window -> Integer,
        last_sent_at -> Timestamp,
    }
}

diesel::table! {
    role_grants (id) {
        id -> Text,
        afm -> Text,
        role -> Text,
        scope_id -> Text,
        granted_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    contact_registry (afm) {
        afm -> Text,
        mobile -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    outbox_messages (id) {
        id -> Text,
        channel -> Text,
        recipient -> Text,
        subject -> Nullable<Binary>,
        body -> Nullable<Binary>,
        language -> Text,
        status -> Text,
        transport -> Nullable<Text>,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    outbox_attachments (message_id, position) {
        message_id -> Text,
        position -> Integer,
        filename -> Text,
        content_type -> Text,
        content -> Binary,
    }
}

diesel::table! {
    service_schedules (service_id) {
        service_id -> Text,
        weekly_hours -> Text,
        seats_per_slot -> Integer,
        min_notice_minutes -> Integer,
        max_advance_days -> Integer,
        closed_dates -> Text,
        open_dates -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    slots (id) {
        id -> Text,
        service_id -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        capacity -> Integer,
        booked -> Integer,
        withdrawn_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    reservations (id) {
        id -> Text,
        slot_id -> Text,
        service_id -> Text,
        department_id -> Text,
        municipality_id -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        status -> Text,
        citizen_afm -> Nullable<Text>,
        full_name -> Nullable<Text>,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        special_requirements -> Nullable<Text>,
        legal_entity_name -> Nullable<Text>,
        legal_entity_afm -> Nullable<Text>,
        upcoming_key -> Nullable<Text>,
        identity_document -> Nullable<Text>,
        cancel_reason -> Nullable<Text>,
        checked_in_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        anonymized_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        language -> Text,
        revision -> Integer,
        reminder_handled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    idempotency_records (caller, scope, key) {
        caller -> Text,
        key -> Text,
        request_hash -> Text,
        status -> Integer,
        body -> Text,
        created_at -> Timestamp,
        scope -> Text,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        at -> Timestamp,
        actor_afm -> Text,
        actor_role -> Text,
        action -> Text,
        subject_type -> Text,
        subject_id -> Text,
        scope_id -> Text,
    }
}

diesel::table! {
    studios (id) {
        id -> Text,
        name -> Text,
        business_afm -> Text,
        owner_afm -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    photo_submissions (id) {
        id -> Text,
        studio_id -> Text,
        uploaded_by -> Text,
        code_hash -> Text,
        code_sealed -> Binary,
        mobile_hint -> Nullable<Text>,
        email_hint -> Nullable<Text>,
        created_at -> Timestamp,
        bound_afm -> Nullable<Text>,
        linked_afm -> Nullable<Text>,
        linked_at -> Nullable<Timestamp>,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    photo_files (submission_id, kind) {
        submission_id -> Text,
        kind -> Text,
        content_type -> Text,
        object_key -> Text,
        wrapped_key -> Binary,
        master_key_id -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
    }
}

diesel::table! {
    photo_link_counts (afm, day) {
        afm -> Text,
        day -> Text,
        taken -> Integer,
    }
}

diesel::table! {
    photo_code_attempts (afm) {
        afm -> Text,
        window_start -> Timestamp,
        attempts -> Integer,
    }
}

diesel::table! {
    apps (id) {
        id -> Text,
        client_id -> Text,
        name -> Text,
        organization -> Text,
        purpose -> Text,
        scopes -> Text,
        created_at -> Timestamp,
        disabled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    app_secrets (id) {
        id -> Text,
        app_id -> Text,
        secret_hash -> Text,
        created_at -> Timestamp,
        retires_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    revoked_tokens (jti) {
        jti -> Text,
        app_id -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    consents (id) {
        id -> Text,
        app_id -> Text,
        afm -> Text,
        submission_id -> Text,
        linked_at -> Timestamp,
        granted_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    photo_access_log (id) {
        id -> Text,
        app_id -> Text,
        afm -> Nullable<Text>,
        kind -> Text,
        outcome -> Text,
        at -> Timestamp,
    }
}

diesel::joinable!(departments -> municipalities (municipality_id));
diesel::joinable!(service_categories -> departments (department_id));
diesel::joinable!(service_documents -> service_categories (service_id));
diesel::joinable!(otp_codes -> sessions (session_id));
diesel::joinable!(slots -> service_categories (service_id));
diesel::joinable!(reservations -> slots (slot_id));
diesel::joinable!(service_schedules -> service_categories (service_id));
diesel::joinable!(outbox_attachments -> outbox_messages (message_id));
diesel::joinable!(photo_submissions -> studios (studio_id));
diesel::joinable!(photo_files -> photo_submissions (submission_id));
diesel::joinable!(app_secrets -> apps (app_id));
diesel::joinable!(revoked_tokens -> apps (app_id));
diesel::joinable!(consents -> apps (app_id));
diesel::joinable!(photo_access_log -> apps (app_id));

diesel::allow_tables_to_appear_in_same_query!(
    municipalities,
    departments,
    service_categories,
    service_documents,
    login_states,
    sessions,
    otp_codes,
    otp_throttle,
    role_grants,
    contact_registry,
    outbox_messages,
    outbox_attachments,
    service_schedules,
    slots,
    reservations,
    idempotency_records,
    audit_events,
    studios,
    photo_submissions,
    photo_files,
    photo_link_counts,
    photo_code_attempts,
    apps,
    app_secrets,
    revoked_tokens,
    consents,
    photo_access_log,
);
