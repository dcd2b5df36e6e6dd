//! A browser-like client of the web console: it keeps the session cookie, does not
//! follow redirects (tests look at them), sends forms as a same-origin browser does and
//! reads each page's CSRF token.

use std::time::Duration;

use crate::server::{Resp, TestServer};

/// One browser profile signed in (or not) to a [`TestServer`]'s console.
pub struct Console<'a> {
    s: &'a TestServer,
    http: reqwest::Client,
    /// The `deckd_session` cookie value, once a sign-in set it.
    pub cookie: Option<String>,
}

/// The value of the first `name="csrf"` field of a page.
pub fn csrf_of(page: &str) -> String {
    let at = page
        .find("name=\"csrf\" value=\"")
        .unwrap_or_else(|| panic!("no CSRF field in the page:\n{page}"));
    let rest = &page[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// The value of the first hidden or text input named `name` on a page.
pub fn input_value(page: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker)? + marker.len();
    Some(page[start..start + page[start..].find('"')?].to_string())
}

impl<'a> Console<'a> {
    /// A browser without a session.
    pub fn new(s: &'a TestServer) -> Self {
        Self {
            s,
            http: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(120))
                .build()
                .unwrap(),
            cookie: None,
        }
    }

    /// Signs in as the existing account `name` (made by `TestServer::user`).
    pub async fn of(s: &'a TestServer, name: &str) -> Console<'a> {
        let mut c = Self::new(s);
        c.sign_in(name, &crate::fixtures::password_for(name))
            .await
            .expect(303, "sign-in");
        c
    }

    /// Creates `name` as an account and signs in as them.
    pub async fn signed_in(s: &'a TestServer, name: &str) -> Console<'a> {
        s.create_user(name, &format!("{name}-password")).await;
        let mut c = Self::new(s);
        c.sign_in(name, &format!("{name}-password"))
            .await
            .expect(303, "sign-in");
        c
    }

    fn with_cookie(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.cookie {
            Some(c) => rb.header("Cookie", format!("deckd_session={c}")),
            None => rb,
        }
    }

    async fn send(&mut self, rb: reqwest::RequestBuilder) -> Resp {
        let r = self.with_cookie(rb).send().await.expect("console request");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        for v in headers.get_all("set-cookie") {
            let v = v.to_str().unwrap();
            if let Some(rest) = v.strip_prefix("deckd_session=") {
                let value = rest.split(';').next().unwrap_or("");
                self.cookie = (!value.is_empty()).then(|| value.to_string());
            }
        }
        let text = r.text().await.unwrap();
        Resp {
            status,
            text,
            headers,
        }
    }

    /// GET a console path.
    pub async fn get(&mut self, path: &str) -> Resp {
        let rb = self.http.get(self.s.url(path));
        self.send(rb).await
    }

    /// POSTs a form as a page of the console itself would (`Sec-Fetch-Site: same-origin`).
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Resp {
        let rb = self
            .http
            .post(self.s.url(path))
            .header("Sec-Fetch-Site", "same-origin")
            .form(form);
        self.send(rb).await
    }

    /// POSTs a form with explicit extra headers (cross-site attempts).
    pub async fn post_with(
        &mut self,
        path: &str,
        headers: &[(&str, &str)],
        form: &[(&str, &str)],
    ) -> Resp {
        let mut rb = self.http.post(self.s.url(path)).form(form);
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        self.send(rb).await
    }

    /// The CSRF token of the page at `path` (a signed-in page).
    pub async fn csrf(&mut self, path: &str) -> String {
        let page = self.get(path).await;
        page.expect(200, path);
        csrf_of(&page.text)
    }

    /// POSTs a form from the page at `page`, with that page's CSRF token.
    pub async fn submit(&mut self, page: &str, action: &str, form: &[(&str, &str)]) -> Resp {
        let token = self.csrf(page).await;
        let mut fields = vec![("csrf", token.as_str())];
        fields.extend_from_slice(form);
        self.post(action, &fields).await
    }

    /// Signs in through the sign-in form.
    pub async fn sign_in(&mut self, name: &str, password: &str) -> Resp {
        self.post(
            "/console/login",
            &[("username", name), ("password", password)],
        )
        .await
    }
}

/// Where a redirect points.
pub fn location(r: &Resp) -> String {
    r.header("location")
        .unwrap_or_else(|| panic!("no Location in a {} answer: {}", r.status, r.text))
}
