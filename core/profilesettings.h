#pragma once

#include "healthverdict.h"

#include <QString>
#include <QUrl>

class QSettings;

namespace fleet {

// What a person sets for one connection profile in Settings (Edit > Settings..., Ctrl+,), remembered with the
// profile: where its status page is, which desktop notifications it sends, and when a region counts as degraded or
// down. The status page's API key is not here: it lives in the desktop keychain (account "statuspage/<page id>"),
// or comes from STATUSPAGE_API_KEY. The command line still overrides what it names (--page-id and the other
// --statuspage options); a profile without saved settings gets the defaults below.
struct ProfileSettings
{
    QUrl statusPageUrl = QUrl(QStringLiteral("https://api.statuspage.io/v1"));
    QString pageId; // empty: no status page for this profile
    bool notifyTrouble = true; // a region becomes degraded or down
    bool notifyRecovered = true; // a region is healthy again
    bool notifyOperations = true; // an action of this console finished or failed
    VerdictThresholds thresholds;
    // The fleet's own monitoring (issue #23); empty: none. Their credentials are not here either: PROMETHEUS_TOKEN /
    // PROMETHEUS_BASIC_AUTH and ALERTMANAGER_TOKEN / ALERTMANAGER_BASIC_AUTH, else the keychain (account
    // monitoringKeychainAccount), read for that origin only.
    QUrl prometheusUrl;
    int prometheusScrapeSeconds = 15;
    QUrl alertmanagerUrl;
    int alertmanagerPollSeconds = 15;
    // The incident record of this profile's fleet in the local store (issue #24): kept this many days, and its
    // oldest rows dropped past this size.
    int recordRetentionDays = 30;
    int recordCapMegabytes = 500;

    // What is wrong, in words, naming the field ("down packet loss (40 %) must be above degraded (50 %)"); empty
    // when usable. A page id without a usable URL is wrong; an empty page id is fine (no status page).
    QString problem() const;

    // The settings saved for `profile` (a profile's name), or the defaults. Values out of range in the file are
    // replaced by the defaults, never used.
    static ProfileSettings load(QSettings *settings, const QString &profile);
    void save(QSettings *settings, const QString &profile) const;
    // The keychain account of a page's API key: "statuspage/<page id>" (also fleet-console --save-statuspage-key's).
    static QString keychainAccount(const QString &pageId);
    // The keychain account of a monitoring service's token: "prometheus/https://prom.example.com:9090" (the
    // service and the URL's origin: a token kept for one server is never offered to another).
    static QString monitoringKeychainAccount(const QString &service, const QUrl &url);
};

} // namespace fleet
