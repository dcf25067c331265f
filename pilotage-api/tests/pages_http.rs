//! The dashboard pages over HTTP, without a browser: statuses and French error pages for a
//! client's mistakes, ETags and 304, compression, immutable content-hashed assets, the search
//! redirect, and no zero where the release has a secret value.

#[path = "api/fixture.rs"]
mod fixture;

use pilotage_api::server;
use reqwest::blocking::Client;
use reqwest::header;

fn client() -> Client {
    // The TLS provider reqwest needs when the workspace builds it without one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

#[test]
fn pages_answer_like_data_answers_and_mistakes_get_french_pages() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (opts, version) = fixture::serving_release_one(dir.path());
    let srv = server::spawn(opts).expect("server starts");
    let base = srv.url();
    let http = client();

    for path in [
        "/",
        "/datasets/candidatures",
        "/territoires/FR",
        "/territoires/REG-84",
        "/territoires/DEP-01",
    ] {
        let res = http.get(format!("{base}{path}")).send().expect("answer");
        assert_eq!(res.status(), 200, "{path}");
        let h = res.headers().clone();
        assert!(
            h[header::CONTENT_TYPE]
                .to_str()
                .unwrap_or("")
                .starts_with("text/html"),
            "{path}"
        );
        assert!(h.contains_key(header::CONTENT_SECURITY_POLICY), "{path}");
        let etag = h[header::ETAG].to_str().expect("etag").to_owned();
        let body = res.text().expect("body");
        assert!(body.contains("lang=\"fr\""), "{path}");
        assert!(body.contains(&version), "{path}: names the release");
        // Same page again with its tag: 304.
        let again = http
            .get(format!("{base}{path}"))
            .header(header::IF_NONE_MATCH, &etag)
            .send()
            .expect("answer");
        assert_eq!(again.status(), 304, "{path}");
    }

    // Compressed when asked.
    let res = http
        .get(format!("{base}/territoires/FR"))
        .header(header::ACCEPT_ENCODING, "gzip")
        .send()
        .expect("answer");
    assert_eq!(res.headers()[header::CONTENT_ENCODING], "gzip");

    // Assets: content-hashed addresses, immutable; a stale hash is a 404.
    let home = http
        .get(format!("{base}/"))
        .send()
        .expect("home")
        .text()
        .expect("body");
    let css = home
        .split('"')
        .find(|s| s.starts_with("/assets/dsfr-") && s.ends_with("dsfr.min.css"))
        .expect("the style sheet's address")
        .to_owned();
    let res = http.get(format!("{base}{css}")).send().expect("css");
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    let res = http
        .get(format!("{base}/assets/dsfr-0000000000000000/dsfr.min.css"))
        .send()
        .expect("answer");
    assert_eq!(res.status(), 404);

    // A client's mistakes: French pages with the right status, never a 500.
    for (path, status) in [
        ("/territoires/XX-99", 404),
        ("/territoires/DEP-999", 404),
        ("/datasets/inconnu", 404),
        ("/datasets/candidatures?territoire=NOWHERE", 400),
        ("/datasets/candidatures?pas_une_dimension=1", 400),
        (
            "/datasets/candidatures?territoire=FR&territoire=DEP-01",
            400,
        ),
        ("/datasets/candidatures?%zz=1", 400),
        ("/recherche?q=", 400),
        ("/recherche", 400),
    ] {
        let res = http.get(format!("{base}{path}")).send().expect("answer");
        assert_eq!(res.status().as_u16(), status, "{path}");
        assert!(
            res.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap_or("")
                .starts_with("text/html"),
            "{path}"
        );
        let body = res.text().expect("body");
        assert!(body.contains("lang=\"fr\""), "{path}");
    }

    // An unknown address: a French page for a browser, a problem for an API client.
    let res = http
        .get(format!("{base}/nulle-part"))
        .header(header::ACCEPT, "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .expect("answer");
    assert_eq!(res.status(), 404);
    assert!(res.text().expect("body").contains("Page introuvable"));
    let res = http
        .get(format!("{base}/nulle-part"))
        .send()
        .expect("answer");
    assert_eq!(res.status(), 404);
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
    let res = http
        .get(format!("{base}/v1/nulle-part"))
        .header(header::ACCEPT, "text/html")
        .send()
        .expect("answer");
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );

    // The search: one match redirects to its dashboard, several are listed, none says so.
    let res = http
        .get(format!("{base}/recherche?q=ain"))
        .send()
        .expect("answer");
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[header::LOCATION], "/territoires/DEP-01");
    let res = http
        .get(format!("{base}/recherche?q=34"))
        .send()
        .expect("answer");
    assert_eq!(res.headers()[header::LOCATION], "/territoires/DEP-34");
    let res = http
        .get(format!("{base}/recherche?q=haute"))
        .send()
        .expect("answer");
    assert_eq!(res.status(), 200);
    assert!(res.text().expect("body").contains("/territoires/DEP-31"));
    let res = http
        .get(format!("{base}/recherche?q=zzzz"))
        .send()
        .expect("answer");
    assert_eq!(res.status(), 200);
    assert!(res.text().expect("body").contains("Aucune région"));

    // The preview shows "secret", never an empty cell, where the release hides a value.
    let page = http
        .get(format!("{base}/datasets/candidatures"))
        .send()
        .expect("answer")
        .text()
        .expect("body");
    assert!(page.contains(">secret<"));
    assert!(!page.contains("<td></td>"));
    // A dashboard names the datasets the release lacks instead of showing zeros.
    let fr = http
        .get(format!("{base}/territoires/FR"))
        .send()
        .expect("answer")
        .text()
        .expect("body");
    assert!(fr.contains("ne figure pas dans la publication en cours"));
    srv.stop().expect("stops");
}
