#pragma once

#include "apierror.h"
#include "clientconfig.h"
#include "result.h"

#include <QMap>
#include <QObject>
#include <QStringList>
#include <QUrl>

#include <functional>

namespace fleet {

class HttpTransport;

// One alert as Alertmanager holds it (API v2): labels and annotations as bounded text, its state ("active",
// "suppressed", "unprocessed") and what suppresses it.
struct AmAlert
{
    QString fingerprint;
    QMap<QString, QString> labels;
    QMap<QString, QString> annotations;
    QString state;
    QStringList silencedBy;
    QStringList inhibitedBy;
    qint64 startsAt = 0; // ms since the epoch
    qint64 updatedAt = 0;

    QString name() const { return labels.value(QStringLiteral("alertname")); }
};

struct AmMatcher
{
    QString name;
    QString value;
    bool isRegex = false;
    bool isEqual = true;
};

struct AmSilence
{
    QString id;
    QString state; // "active", "pending", "expired"
    QList<AmMatcher> matchers;
    qint64 startsAt = 0;
    qint64 endsAt = 0;
    qint64 updatedAt = 0;
    QString createdBy;
    QString comment;
};

// Where an Alertmanager is (one member of a cluster is enough: silences are shared across the cluster, and one is
// created once, never once per member) and how to sign in, as PrometheusConfig.
struct AlertmanagerConfig
{
    QUrl url;
    QString bearerToken;
    QString basicAuth; // "user:password"
    QString caFile;
    bool insecure = false;
    int requestTimeoutMs = 15000;
    int maxAttempts = 3; // per request; a poller that asks again anyway wants 1

    ClientConfig clientConfig() const;
    QString problem() const;
};

// Alertmanager's API v2 (0.25): the alerts (from /api/v2/alerts/groups, each alert once), the silences, creating a
// silence (sent once; after an unknown outcome the silences are read for the one carrying this request's key in its
// comment before anything is sent again) and expiring one. Every answer is checked: sizes, types, label text
// bounded, times in range; a silence id goes into a path only after it is checked.
class AlertmanagerClient : public QObject
{
    Q_OBJECT

public:
    static constexpr int kMaxAlerts = 5000;
    static constexpr int kMaxSilences = 5000;
    static constexpr int kMaxLabels = 64;
    static constexpr int kMaxText = 4096;

    explicit AlertmanagerClient(AlertmanagerConfig config, QObject *parent = nullptr);
    ~AlertmanagerClient() override;

    template <typename T> using Callback = std::function<void(ApiResult<T>)>;

    void alerts(QObject *context, Callback<QList<AmAlert>> done);
    void silences(QObject *context, Callback<QList<AmSilence>> done);
    // A silence of every alert matching `matchers` from now until `endsAtMs`. `key` (unique per request) is written
    // into the comment, so a create whose answer was lost is found again instead of made twice. Answers the id.
    void createSilence(const QList<AmMatcher> &matchers, qint64 endsAtMs, const QString &createdBy,
        const QString &comment, const QString &key, QObject *context, Callback<QString> done);
    void expireSilence(const QString &id, QObject *context, Callback<bool> done);

    static Result<QList<AmAlert>> decodeAlertGroups(const QByteArray &body);
    static Result<QList<AmSilence>> decodeSilences(const QByteArray &body);
    static QString describeError(int httpStatus, const QByteArray &body, const QString &reasonPhrase);
    // "key <key>" as written into a silence's comment.
    static QString keyMark(const QString &key) { return QStringLiteral("[fleet-console key %1]").arg(key); }

private:
    AlertmanagerConfig m_config;
    HttpTransport *m_http;
};

} // namespace fleet
