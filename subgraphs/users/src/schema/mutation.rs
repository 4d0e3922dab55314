//! Mutations of the users subgraph.

use super::user::User;
use crate::UsersState;
use crate::accounts::{Registration, Session};
use crate::domain::{Address, Email, Password, PersonName, PhoneNo};
use crate::store::UserChanges;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use folio_common::{DateTime, Error, Id, Viewer};

#[derive(InputObject)]
pub struct RegisterInput {
    /// A valid address, unique without regard to case.
    pub email: String,
    /// At least 8 characters, at most 128.
    pub password: String,
    pub first_name: String,
    pub last_name: String,
    pub phone_no: Option<String>,
    pub address: Option<String>,
}

/// Partial update: a field left out is unchanged; an optional field set to null is cleared.
#[derive(InputObject)]
pub struct UpdateUserInput {
    pub email: MaybeUndefined<String>,
    pub first_name: MaybeUndefined<String>,
    pub last_name: MaybeUndefined<String>,
    pub phone_no: MaybeUndefined<String>,
    pub address: MaybeUndefined<String>,
}

#[derive(SimpleObject)]
pub struct AuthPayload {
    /// Short-lived JWT (at most 15 minutes by default) that the router verifies.
    pub access_token: String,
    /// Long-lived opaque token; each use rotates it (the old one stops working).
    pub refresh_token: String,
    /// Seconds until accessToken expires.
    pub expires_in: i32,
    pub user: User,
}

impl From<Session> for AuthPayload {
    fn from(s: Session) -> Self {
        AuthPayload {
            access_token: s.access_token,
            refresh_token: s.refresh_token,
            expires_in: i32::try_from(s.expires_in).unwrap_or(i32::MAX),
            user: User::as_viewer(s.user),
        }
    }
}

#[derive(SimpleObject)]
pub struct TokenStatus {
    pub valid: bool,
    pub user_id: Option<ID>,
    pub expires_at: Option<DateTime>,
}

pub struct Mutation;

#[Object]
impl Mutation {
    /// Anonymous only (FORBIDDEN when signed in). When the operator configures a list of
    /// sign-up countries, a request whose client IP is located elsewhere (or cannot be
    /// located) is FORBIDDEN with a message naming the country found.
    async fn register(&self, ctx: &Context<'_>, input: RegisterInput) -> Result<AuthPayload> {
        let viewer = ctx.data::<Viewer>()?;
        let state = ctx.data::<UsersState>()?;
        state.attempts.check(viewer.client_ip, Some(&input.email))?;
        if viewer.user_id.is_some() {
            return Err(Error::forbidden("sign out before registering a new account").into());
        }
        state.signup.check(viewer.client_ip)?;
        let registration = Registration {
            email: Email::parse(&input.email).map_err(|e| e.on("email"))?,
            password: Password::parse(&input.password).map_err(|e| e.on("password"))?,
            first_name: PersonName::parse(&input.first_name).map_err(|e| e.on("firstName"))?,
            last_name: PersonName::parse(&input.last_name).map_err(|e| e.on("lastName"))?,
            phone_no: input
                .phone_no
                .map(|p| {
                    PhoneNo::parse(&p)
                        .map(PhoneNo::into_inner)
                        .map_err(|e| e.on("phoneNo"))
                })
                .transpose()?,
            address: input
                .address
                .map(|a| {
                    Address::parse(&a)
                        .map(Address::into_inner)
                        .map_err(|e| e.on("address"))
                })
                .transpose()?,
        };
        Ok(state.register(registration).await?.into())
    }

    /// Wrong email and wrong password give the same UNAUTHENTICATED error.
    async fn login(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
    ) -> Result<AuthPayload> {
        let state = ctx.data::<UsersState>()?;
        let viewer = ctx.data::<Viewer>()?;
        state.attempts.check(viewer.client_ip, Some(&email))?;
        Ok(state.login(&email, &password).await?.into())
    }

    async fn refresh_token(&self, ctx: &Context<'_>, refresh_token: String) -> Result<AuthPayload> {
        let state = ctx.data::<UsersState>()?;
        let viewer = ctx.data::<Viewer>()?;
        state.attempts.check(viewer.client_ip, None)?;
        Ok(state.refresh(&refresh_token).await?.into())
    }

    /// Revokes the refresh token (and so the session). False when it was not live.
    async fn logout(&self, ctx: &Context<'_>, refresh_token: String) -> Result<bool> {
        let state = ctx.data::<UsersState>()?;
        let hash = crate::auth::refresh::hash(&refresh_token);
        Ok(state.store.revoke_session(&hash).await?)
    }

    /// For other services: whether an access token is valid and whose it is.
    async fn verify_token(&self, ctx: &Context<'_>, token: String) -> Result<TokenStatus> {
        let state = ctx.data::<UsersState>()?;
        Ok(match state.tokens.verify(&token) {
            Some(claims) => TokenStatus {
                valid: true,
                user_id: Some(ID(claims.sub)),
                expires_at: chrono::DateTime::from_timestamp(claims.exp, 0).map(DateTime),
            },
            None => TokenStatus {
                valid: false,
                user_id: None,
                expires_at: None,
            },
        })
    }

    /// The user themself or an admin.
    async fn update_user(&self, ctx: &Context<'_>, id: ID, input: UpdateUserInput) -> Result<User> {
        let viewer = ctx.data::<Viewer>()?;
        let me = viewer.require_self_or_admin(&id, "you may only update your own account")?;
        let changes = UserChanges {
            email: folio_common::input::required(input.email, "email", |s| Email::parse(s))?
                .map(|e| (e.as_str().to_owned(), e.normalized().to_owned())),
            first_name: folio_common::input::required(input.first_name, "firstName", |s| {
                PersonName::parse(s)
            })?
            .map(PersonName::into_inner),
            last_name: folio_common::input::required(input.last_name, "lastName", |s| {
                PersonName::parse(s)
            })?
            .map(PersonName::into_inner),
            phone_no: folio_common::input::optional(input.phone_no, "phoneNo", |s| {
                PhoneNo::parse(s)
            })?
            .map(|p| p.map(PhoneNo::into_inner)),
            address: folio_common::input::optional(input.address, "address", |s| {
                Address::parse(s)
            })?
            .map(|a| a.map(Address::into_inner)),
        };
        let id = Id::parse_or_not_found(&id, "user")?;
        let state = ctx.data::<UsersState>()?;
        Ok(User::new(
            state.store.update_user(&id, changes, Some(&me)).await?,
        ))
    }

    /// Signed in; a wrong currentPassword is BAD_USER_INPUT (field currentPassword).
    /// Revokes every refresh token of the user.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        current_password: String,
        new_password: String,
    ) -> Result<bool> {
        let me = ctx.data::<Viewer>()?.require_user()?;
        let new = Password::parse(&new_password).map_err(|e| e.on("newPassword"))?;
        let state = ctx.data::<UsersState>()?;
        state.change_password(&me, &current_password, &new).await?;
        Ok(true)
    }

    /// The user themself or an admin. Their content, comments and interactions go too.
    async fn delete_user(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let viewer = ctx.data::<Viewer>()?;
        let me = viewer.require_self_or_admin(&id, "you may only delete your own account")?;
        let id = Id::parse_or_not_found(&id, "user")?;
        let state = ctx.data::<UsersState>()?;
        if !state.store.delete_user(&id, Some(&me)).await? {
            return Err(Error::NotFound("user").into());
        }
        Ok(true)
    }

    /// Admins only.
    async fn set_admin(&self, ctx: &Context<'_>, id: ID, is_admin: bool) -> Result<User> {
        let viewer = ctx.data::<Viewer>()?;
        let me = viewer.require_admin("only admins may change who is an admin")?;
        let id = Id::parse_or_not_found(&id, "user")?;
        let state = ctx.data::<UsersState>()?;
        Ok(User::new(
            state.store.set_admin(&id, is_admin, Some(&me)).await?,
        ))
    }

    /// Signed in; following yourself, or a user when either has blocked the other, is
    /// FORBIDDEN. Idempotent.
    async fn follow(&self, ctx: &Context<'_>, user_id: ID) -> Result<User> {
        let me = ctx.data::<Viewer>()?.require_other_than(&user_id)?;
        let user_id = Id::parse_or_not_found(&user_id, "user")?;
        let state = ctx.data::<UsersState>()?;
        Ok(User::new(state.store.follow(&me, &user_id).await?))
    }

    /// Signed in. Idempotent: unfollowing someone you do not follow changes nothing.
    async fn unfollow(&self, ctx: &Context<'_>, user_id: ID) -> Result<User> {
        let me = ctx.data::<Viewer>()?.require_user()?;
        let user_id = Id::parse_or_not_found(&user_id, "user")?;
        let state = ctx.data::<UsersState>()?;
        Ok(User::new(state.store.unfollow(&me, &user_id).await?))
    }

    /// Signed in. Removes follows in both directions; until unblocked neither can follow
    /// the other or see the other's content in their feed. Idempotent.
    async fn block(&self, ctx: &Context<'_>, user_id: ID) -> Result<bool> {
        let me = ctx.data::<Viewer>()?.require_other_than(&user_id)?;
        let user_id = Id::parse_or_not_found(&user_id, "user")?;
        let state = ctx.data::<UsersState>()?;
        state.store.block(&me, &user_id).await?;
        Ok(true)
    }

    /// Signed in. Idempotent.
    async fn unblock(&self, ctx: &Context<'_>, user_id: ID) -> Result<bool> {
        let me = ctx.data::<Viewer>()?.require_user()?;
        let user_id = Id::parse_or_not_found(&user_id, "user")?;
        let state = ctx.data::<UsersState>()?;
        state.store.unblock(&me, &user_id).await?;
        Ok(true)
    }
}
