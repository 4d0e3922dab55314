//! Account rules that more than one door uses: sign-up, sign-in, sessions, admins.
//!
//! The GraphQL mutations, the `folio admin create` command and the bootstrap admin all
//! come through here, so a rule (hashing, uniqueness, token issuance) exists once.
//!
//! A `login`: the `login` resolver hands the raw email and password here, unvalidated, so
//! that every failure is the same "wrong email or password". The email is normalised and
//! looked up; the password is verified on the blocking pool (`auth::password`) against the
//! user's hash or, for an unknown email, a dummy hash, so both fail in the same time. Then
//! `start_session`, in one transaction: a refresh token, the first of a new family (its
//! hash stored), and an access token carrying the user's current admin flag. `register`
//! inserts the user and starts the session in the same transaction.

use crate::UsersState;
use crate::auth::refresh;
use crate::domain::{Email, Password, PersonName};
use crate::store::{NewUser, RotateOutcome, UserRow};
use folio_common::{Error, Id, Result};

/// A signed-in session: what `register`, `login` and `refreshToken` return.
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
    pub user: UserRow,
}

/// A validated sign-up.
pub struct Registration {
    pub email: Email,
    pub password: Password,
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub phone_no: Option<String>,
    pub address: Option<String>,
}

const BAD_CREDENTIALS: &str = "wrong email or password";

impl UsersState {
    /// Creates the user and signs them in, in one transaction.
    pub async fn register(&self, r: Registration) -> Result<Session> {
        let password_hash = self.hasher.hash(&r.password).await?;
        let tx = folio_common::db::begin_write(self.store.connection()).await?;
        let user = self
            .store
            .insert_user(
                &tx,
                NewUser {
                    email: r.email.as_str().to_owned(),
                    email_normalized: r.email.normalized().to_owned(),
                    password_hash,
                    first_name: r.first_name.into_inner(),
                    last_name: r.last_name.into_inner(),
                    phone_no: r.phone_no,
                    address: r.address,
                    is_admin: false,
                },
            )
            .await?;
        let session = self.start_session(&tx, user).await?;
        self.store.outbox().commit(tx).await?;
        Ok(session)
    }

    /// Signs in; an unknown email and a wrong password fail alike, in the same time.
    pub async fn login(&self, email: &str, password: &str) -> Result<Session> {
        let user = match Email::parse(email) {
            Ok(e) => self.store.user_by_email(&e).await?,
            Err(_) => None,
        };
        let ok = self
            .hasher
            .verify(password, user.as_ref().map(|u| u.password_hash.as_str()))
            .await?;
        match user {
            Some(user) if ok => {
                let tx = folio_common::db::begin_write(self.store.connection()).await?;
                let session = self.start_session(&tx, user).await?;
                tx.commit().await?;
                Ok(session)
            }
            _ => Err(Error::Unauthenticated(BAD_CREDENTIALS)),
        }
    }

    /// Exchanges a refresh token for a new session of the same family.
    pub async fn refresh(&self, token: &str) -> Result<Session> {
        let rejected = Error::Unauthenticated("refresh token is invalid, expired or revoked");
        let (new_token, new_hash) = refresh::generate();
        let outcome = self
            .store
            .rotate_refresh_token(&refresh::hash(token), new_hash, self.refresh_ttl)
            .await?;
        let RotateOutcome::Rotated { user_id } = outcome else {
            return Err(rejected);
        };
        let user = self.store.user(&user_id).await?.ok_or(rejected)?;
        Ok(Session {
            access_token: self.tokens.issue(&user.id, user.is_admin)?,
            refresh_token: new_token,
            expires_in: self.tokens.ttl_secs(),
            user,
        })
    }

    /// Verifies the current password, stores the new one and revokes every session.
    pub async fn change_password(&self, user_id: &Id, current: &str, new: &Password) -> Result<()> {
        let user = self
            .store
            .user(user_id)
            .await?
            .ok_or(Error::Unauthenticated("your account no longer exists"))?;
        if !self
            .hasher
            .verify(current, Some(&user.password_hash))
            .await?
        {
            return Err(Error::validation(
                "currentPassword",
                "is not your current password",
            ));
        }
        let hash = self.hasher.hash(new).await?;
        let tx = folio_common::db::begin_write(self.store.connection()).await?;
        self.store.set_password_hash(&tx, user_id, hash).await?;
        self.store.revoke_all_sessions(&tx, user_id).await?;
        self.store.outbox().commit(tx).await?;
        Ok(())
    }

    /// Makes sure an admin with this email exists: creates it, or promotes the existing
    /// user (their password is left as it is).
    pub async fn ensure_admin(
        &self,
        email: &Email,
        password: &Password,
        first_name: PersonName,
        last_name: PersonName,
    ) -> Result<UserRow> {
        if let Some(user) = self.store.user_by_email(email).await? {
            if user.is_admin {
                return Ok(user);
            }
            return self
                .store
                .set_admin(&Id::stored(&user.id)?, true, None)
                .await;
        }
        let password_hash = self.hasher.hash(password).await?;
        let tx = folio_common::db::begin_write(self.store.connection()).await?;
        let user = self
            .store
            .insert_user(
                &tx,
                NewUser {
                    email: email.as_str().to_owned(),
                    email_normalized: email.normalized().to_owned(),
                    password_hash,
                    first_name: first_name.into_inner(),
                    last_name: last_name.into_inner(),
                    phone_no: None,
                    address: None,
                    is_admin: true,
                },
            )
            .await?;
        self.store.outbox().commit(tx).await?;
        Ok(user)
    }

    async fn start_session(
        &self,
        tx: &impl sea_orm::ConnectionTrait,
        user: UserRow,
    ) -> Result<Session> {
        let (refresh_token, hash) = refresh::generate();
        self.store
            .insert_refresh_token(tx, &Id::stored(&user.id)?, hash, self.refresh_ttl)
            .await?;
        Ok(Session {
            access_token: self.tokens.issue(&user.id, user.is_admin)?,
            refresh_token,
            expires_in: self.tokens.ttl_secs(),
            user,
        })
    }
}
