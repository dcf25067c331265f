//! The frame of every page: the design system's header and footer, a breadcrumb, the search
//! box, and the main content. No script: every page works without JavaScript.

use maud::{DOCTYPE, Markup, html};

use super::assets;

/// A link of the breadcrumb: its text and address (`None` for the current page).
pub type Crumb<'a> = (&'a str, Option<&'a str>);

/// A whole page: `title` (also the `<title>`, followed by "pilotage"), the breadcrumb after
/// "Accueil", and the `main` content.
pub fn page(title: &str, crumbs: &[Crumb<'_>], main: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="fr" data-fr-scheme="light" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — pilotage, données ouvertes de l'inclusion dans l'emploi" }
                link rel="stylesheet" href=(assets::dsfr_url("dsfr.min.css"));
                link rel="stylesheet" href=(assets::pages_css_url());
                link rel="icon" href=(assets::dsfr_url("favicon.svg")) type="image/svg+xml";
            }
            body {
                div.fr-skiplinks {
                    nav.fr-container role="navigation" aria-label="Accès rapide" {
                        ul.fr-skiplinks__list {
                            li { a.fr-link href="#contenu" { "Contenu" } }
                            li { a.fr-link href="#recherche" { "Recherche d'un territoire" } }
                        }
                    }
                }
                header.fr-header role="banner" {
                    div.fr-header__body { div.fr-container { div.fr-header__body-row {
                        div.fr-header__brand.fr-enlarge-link {
                            div.fr-header__brand-top {
                                div.fr-header__logo {
                                    p.fr-logo { "République" br; "Française" }
                                }
                            }
                            div.fr-header__service {
                                a href="/" title="Accueil — pilotage" {
                                    p.fr-header__service-title { "pilotage" }
                                }
                                p.fr-header__service-tagline { "Données ouvertes de l'insertion par l'activité économique" }
                            }
                        }
                        div.fr-header__tools { div.fr-header__tools-links {
                            ul.fr-btns-group {
                                li { a.fr-btn href="/" { "Jeux de données" } }
                                li { a.fr-btn href="/territoires/FR" { "Tableau de bord France" } }
                                li { a.fr-btn href="/docs/" { "API" } }
                            }
                        } }
                    } } }
                }
                main id="contenu" role="main" tabindex="-1" {
                    div.fr-container.fr-mb-8w {
                        nav.fr-breadcrumb role="navigation" aria-label="vous êtes ici :" {
                            ol.fr-breadcrumb__list {
                                @if crumbs.is_empty() {
                                    li { a.fr-breadcrumb__link aria-current="page" { "Accueil" } }
                                } @else {
                                    li { a.fr-breadcrumb__link href="/" { "Accueil" } }
                                    @for (text, href) in crumbs {
                                        li {
                                            @if let Some(h) = href {
                                                a.fr-breadcrumb__link href=(h) { (text) }
                                            } @else {
                                                a.fr-breadcrumb__link aria-current="page" { (text) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                        (main)
                    }
                }
                footer.fr-footer id="pied" role="contentinfo" {
                    div.fr-container {
                        div.fr-footer__body {
                            div.fr-footer__brand.fr-enlarge-link {
                                a href="/" title="Retour à l'accueil — pilotage" {
                                    p.fr-logo { "République" br; "Française" }
                                }
                            }
                            div.fr-footer__content {
                                p.fr-footer__content-desc {
                                    "Indicateurs anonymisés de l'insertion par l'activité économique, publiés en données ouvertes sous Licence Ouverte 2.0. "
                                    "Les valeurs couvertes par le secret statistique sont signalées « secret »."
                                }
                                ul.fr-footer__content-list {
                                    li.fr-footer__content-item { a.fr-footer__content-link href="/v1/datasets" { "API (JSON)" } }
                                    li.fr-footer__content-item { a.fr-footer__content-link href="/v1/catalog.jsonld" { "Catalogue DCAT" } }
                                    li.fr-footer__content-item { a.fr-footer__content-link href="/openapi.json" { "OpenAPI" } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The territory search form (GET `/recherche?q=`): works without JavaScript.
pub fn search_box(value: &str) -> Markup {
    html! {
        form id="recherche" action="/recherche" method="get" role="search" {
            div.fr-search-bar {
                label.fr-label for="q" { "Rechercher une région ou un département (nom ou code)" }
                input.fr-input id="q" type="search" name="q" value=(value) placeholder="Ex. : Hérault, 34, Bretagne" autocomplete="off";
                button.fr-btn type="submit" title="Rechercher" { "Rechercher" }
            }
        }
    }
}
