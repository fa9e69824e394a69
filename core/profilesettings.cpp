#include "profilesettings.h"

#include "alertmanager.h"
#include "connectionprofiles.h"
#include "prometheus.h"
#include "statuspage.h"

#include <QCoreApplication>
#include <QSettings>

#include <cmath>

namespace fleet {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("fleet::ProfileSettings", text);
}

QString percent(double ratio)
{
    return QString::number(ratio * 100, 'g', 4);
}

bool within(double v, double low, double high)
{
    return std::isfinite(v) && v >= low && v <= high;
}

// A number from the settings file when it is one and in range, else `fallback`: a hand-edited or foreign file
// never sets a threshold nobody chose.
double number(QSettings *s, const QString &key, double fallback, double low, double high)
{
    bool ok = false;
    const double v = s->value(key, fallback).toDouble(&ok);
    return ok && within(v, low, high) ? v : fallback;
}

} // namespace

QString ProfileSettings::problem() const
{
    const VerdictThresholds &t = thresholds;
    if (!within(t.degradedPacketLoss, 0.001, 1))
        return tr("degraded packet loss must be from 0.1 % to 100 %");
    if (!within(t.downPacketLoss, 0.001, 1) || t.downPacketLoss <= t.degradedPacketLoss)
        return tr("down packet loss (%1 %) must be above degraded packet loss (%2 %) and at most 100 %")
            .arg(percent(t.downPacketLoss), percent(t.degradedPacketLoss));
    if (!within(t.degradedFailureRatio, 0.001, 1))
        return tr("degraded infrastructure failures must be from 0.1 % to 100 % of finished builds");
    if (!within(t.downFailureRatio, 0.001, 1) || t.downFailureRatio <= t.degradedFailureRatio)
        return tr("down infrastructure failures (%1 %) must be above degraded (%2 %) and at most 100 %")
            .arg(percent(t.downFailureRatio), percent(t.degradedFailureRatio));
    if (!within(t.degradedRttP95Ms, 1, 60000))
        return tr("degraded round-trip time must be from 1 to 60,000 ms");
    if (t.minFinishedBuilds < 1 || t.minFinishedBuilds > 10000)
        return tr("the fewest finished builds to judge failures must be from 1 to 10,000");
    if (t.holdSeconds < 0 || t.holdSeconds > 3600)
        return tr("the hold time must be from 0 to 3,600 s");
    if (t.windowSeconds < 10 || t.windowSeconds > 3600)
        return tr("the verdict window must be from 10 to 3,600 s");
    if (!prometheusUrl.isEmpty()) {
        PrometheusConfig c;
        c.url = prometheusUrl;
        if (const QString p = c.problem(); !p.isEmpty())
            return tr("Prometheus: %1").arg(p);
    }
    if (prometheusScrapeSeconds < 1 || prometheusScrapeSeconds > 3600)
        return tr("Prometheus's scrape interval must be from 1 to 3,600 s");
    if (!alertmanagerUrl.isEmpty()) {
        AlertmanagerConfig c;
        c.url = alertmanagerUrl;
        if (const QString p = c.problem(); !p.isEmpty())
            return tr("Alertmanager: %1").arg(p);
    }
    if (alertmanagerPollSeconds < 1 || alertmanagerPollSeconds > 3600)
        return tr("Alertmanager's poll interval must be from 1 to 3,600 s");
    if (recordRetentionDays < 1 || recordRetentionDays > 3650)
        return tr("the incident record must be kept from 1 to 3,650 days");
    if (recordCapMegabytes < 10 || recordCapMegabytes > 100000)
        return tr("the incident record's size must be from 10 to 100,000 MB");
    if (!pageId.trimmed().isEmpty()) {
        StatusPageConfig page;
        page.baseUrl = statusPageUrl;
        page.pageId = pageId;
        page.apiKey = QStringLiteral("-"); // the key is the keychain's, checked when it is read
        if (const QString p = page.problem(); !p.isEmpty())
            return p;
    }
    return {};
}

ProfileSettings ProfileSettings::load(QSettings *settings, const QString &profile)
{
    ProfileSettings out;
    const ProfileSettings defaults;
    // Before they were per profile, the notification choices were global ("notifications/..."): a profile without a
    // choice of its own keeps the one made then, so a kind turned off is not turned on again by an upgrade.
    const bool legacyTrouble = settings->value(QStringLiteral("notifications/region_trouble"), true).toBool();
    const bool legacyRecovered = settings->value(QStringLiteral("notifications/region_recovered"), true).toBool();
    const bool legacyOperations = settings->value(QStringLiteral("notifications/operations"), true).toBool();
    settings->beginGroup(ProfileStore::group(profile) + QStringLiteral("/settings"));
    const QUrl url(settings->value(QStringLiteral("statuspage_url"), defaults.statusPageUrl.toString()).toString(),
        QUrl::StrictMode);
    out.statusPageUrl = url.isValid() ? url : defaults.statusPageUrl;
    out.pageId = settings->value(QStringLiteral("page_id")).toString().trimmed();
    out.notifyTrouble = settings->value(QStringLiteral("notify_trouble"), legacyTrouble).toBool();
    out.notifyRecovered = settings->value(QStringLiteral("notify_recovered"), legacyRecovered).toBool();
    out.notifyOperations = settings->value(QStringLiteral("notify_operations"), legacyOperations).toBool();
    VerdictThresholds &t = out.thresholds;
    const VerdictThresholds d;
    t.degradedPacketLoss = number(settings, QStringLiteral("degraded_packet_loss"), d.degradedPacketLoss, 0.001, 1);
    t.downPacketLoss = number(settings, QStringLiteral("down_packet_loss"), d.downPacketLoss, 0.001, 1);
    t.degradedFailureRatio
        = number(settings, QStringLiteral("degraded_failure_ratio"), d.degradedFailureRatio, 0.001, 1);
    t.downFailureRatio = number(settings, QStringLiteral("down_failure_ratio"), d.downFailureRatio, 0.001, 1);
    t.degradedRttP95Ms = number(settings, QStringLiteral("degraded_rtt_p95_ms"), d.degradedRttP95Ms, 1, 60000);
    t.minFinishedBuilds = int(number(settings, QStringLiteral("min_finished_builds"), d.minFinishedBuilds, 1, 10000));
    t.holdSeconds = int(number(settings, QStringLiteral("hold_seconds"), d.holdSeconds, 0, 3600));
    t.windowSeconds = int(number(settings, QStringLiteral("window_seconds"), d.windowSeconds, 10, 3600));
    // A URL that is not one a client could use is dropped, never half-used.
    auto serviceUrl = [settings](const QString &key, auto config) {
        config.url = QUrl(settings->value(key).toString().trimmed(), QUrl::StrictMode);
        return config.url.isEmpty() || !config.problem().isEmpty() ? QUrl() : config.url;
    };
    out.prometheusUrl = serviceUrl(QStringLiteral("prometheus_url"), PrometheusConfig {});
    out.prometheusScrapeSeconds = int(number(settings, QStringLiteral("prometheus_scrape_seconds"), 15, 1, 3600));
    out.alertmanagerUrl = serviceUrl(QStringLiteral("alertmanager_url"), AlertmanagerConfig {});
    out.alertmanagerPollSeconds = int(number(settings, QStringLiteral("alertmanager_poll_seconds"), 15, 1, 3600));
    out.recordRetentionDays = int(number(settings, QStringLiteral("record_retention_days"), 30, 1, 3650));
    out.recordCapMegabytes = int(number(settings, QStringLiteral("record_cap_mb"), 500, 10, 100000));
    settings->endGroup();
    if (t.downPacketLoss <= t.degradedPacketLoss || t.downFailureRatio <= t.degradedFailureRatio)
        out.thresholds = d; // an inconsistent pair from a hand-edited file: none of it is used
    return out;
}

void ProfileSettings::save(QSettings *settings, const QString &profile) const
{
    settings->beginGroup(ProfileStore::group(profile) + QStringLiteral("/settings"));
    settings->setValue(QStringLiteral("statuspage_url"), statusPageUrl.toString());
    settings->setValue(QStringLiteral("page_id"), pageId.trimmed());
    settings->setValue(QStringLiteral("notify_trouble"), notifyTrouble);
    settings->setValue(QStringLiteral("notify_recovered"), notifyRecovered);
    settings->setValue(QStringLiteral("notify_operations"), notifyOperations);
    const VerdictThresholds &t = thresholds;
    settings->setValue(QStringLiteral("degraded_packet_loss"), t.degradedPacketLoss);
    settings->setValue(QStringLiteral("down_packet_loss"), t.downPacketLoss);
    settings->setValue(QStringLiteral("degraded_failure_ratio"), t.degradedFailureRatio);
    settings->setValue(QStringLiteral("down_failure_ratio"), t.downFailureRatio);
    settings->setValue(QStringLiteral("degraded_rtt_p95_ms"), t.degradedRttP95Ms);
    settings->setValue(QStringLiteral("min_finished_builds"), t.minFinishedBuilds);
    settings->setValue(QStringLiteral("hold_seconds"), t.holdSeconds);
    settings->setValue(QStringLiteral("window_seconds"), t.windowSeconds);
    settings->setValue(QStringLiteral("prometheus_url"), prometheusUrl.toString());
    settings->setValue(QStringLiteral("prometheus_scrape_seconds"), prometheusScrapeSeconds);
    settings->setValue(QStringLiteral("alertmanager_url"), alertmanagerUrl.toString());
    settings->setValue(QStringLiteral("alertmanager_poll_seconds"), alertmanagerPollSeconds);
    settings->setValue(QStringLiteral("record_retention_days"), recordRetentionDays);
    settings->setValue(QStringLiteral("record_cap_mb"), recordCapMegabytes);
    settings->endGroup();
    settings->sync();
}

QString ProfileSettings::keychainAccount(const QString &pageId)
{
    return QStringLiteral("statuspage/") + pageId.trimmed();
}

QString ProfileSettings::monitoringKeychainAccount(const QString &service, const QUrl &url)
{
    return service + u'/'
        + url.adjusted(QUrl::RemovePath | QUrl::RemoveQuery | QUrl::RemoveFragment | QUrl::RemoveUserInfo
                 | QUrl::StripTrailingSlash)
              .toString();
}

} // namespace fleet
