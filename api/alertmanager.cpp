#include "alertmanager.h"

#include "httptransport.h"
#include "isotime.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QSet>

namespace fleet {

namespace {

QString bounded(const QString &text, int limit)
{
    return text.size() <= limit ? text : text.left(limit) + QStringLiteral("...");
}

// Alertmanager's times are RFC 3339 with fractions ("2026-12-05T04:31:02.123456789Z"); 0 when absent or unreadable.
qint64 timeOf(const QJsonValue &v)
{
    const QString text = v.toString();
    if (text.isEmpty() || text.size() > 64)
        return 0;
    if (auto t = parseIsoUtc(text))
        return *t;
    QString trimmed = text;
    // Qt reads at most milliseconds: cut nanoseconds to three digits.
    const qsizetype dot = trimmed.indexOf(u'.');
    if (dot > 0) {
        qsizetype end = dot + 1;
        while (end < trimmed.size() && trimmed.at(end).isDigit())
            ++end;
        trimmed = trimmed.left(std::min(end, dot + 4)) + trimmed.mid(end);
    }
    const QDateTime dt = QDateTime::fromString(trimmed, Qt::ISODateWithMs);
    return dt.isValid() ? dt.toMSecsSinceEpoch() : 0;
}

Result<QMap<QString, QString>> textMap(const QJsonValue &v, const QString &what)
{
    using R = Result<QMap<QString, QString>>;
    if (!v.isObject() && !v.isUndefined())
        return R::failure(QStringLiteral("%1 is not an object").arg(what));
    const QJsonObject o = v.toObject();
    if (o.size() > AlertmanagerClient::kMaxLabels)
        return R::failure(QStringLiteral("%1 has %2 entries (at most %3)")
                              .arg(what)
                              .arg(o.size())
                              .arg(AlertmanagerClient::kMaxLabels));
    QMap<QString, QString> out;
    for (auto it = o.begin(); it != o.end(); ++it) {
        if (it.key().size() > 200 || !it.value().isString()
            || it.value().toString().size() > AlertmanagerClient::kMaxText)
            return R::failure(QStringLiteral("%1 has an entry that is not short text").arg(what));
        out.insert(it.key(), it.value().toString());
    }
    return R::success(out);
}

QStringList idList(const QJsonValue &v)
{
    QStringList out;
    const QJsonArray items = v.toArray();
    for (const QJsonValue &x : items)
        if (x.isString() && out.size() < 100)
            out << bounded(x.toString(), 128);
    return out;
}

template <typename T>
std::function<void(HttpTransport::Raw)> decoding(
    std::function<void(ApiResult<T>)> done, Result<T> (*decode)(const QByteArray &))
{
    return decodedAnswer<T>(
        std::move(done), decode, QStringLiteral("Alertmanager's answer is not what its API says: "));
}

Result<QString> decodeSilenceId(const QByteArray &body)
{
    const QJsonObject o = QJsonDocument::fromJson(body).object();
    const QString id = o.value(QLatin1String("silenceID")).toString();
    if (const QString problem = idProblem(id, QStringLiteral("silence")); !problem.isEmpty())
        return Result<QString>::failure(problem);
    return Result<QString>::success(id);
}

Result<bool> decodeNothing(const QByteArray &)
{
    return Result<bool>::success(true);
}

} // namespace

ClientConfig AlertmanagerConfig::clientConfig() const
{
    return serviceClientConfig(
        url, bearerToken, basicAuth, caFile, insecure, requestTimeoutMs, 16LL * 1024 * 1024, maxAttempts);
}

QString AlertmanagerConfig::problem() const
{
    return serviceUrlProblem(url, QStringLiteral("Alertmanager"));
}

AlertmanagerClient::AlertmanagerClient(AlertmanagerConfig config, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
    , m_http(new HttpTransport(
          m_config.clientConfig(),
          [](ApiError &error, const QByteArray &body, const QString &reasonPhrase) {
              error.message = describeError(error.httpStatus, body, reasonPhrase);
          },
          this))
{
}

AlertmanagerClient::~AlertmanagerClient() = default;

QString AlertmanagerClient::describeError(int httpStatus, const QByteArray &body, const QString &reasonPhrase)
{
    // Alertmanager answers errors as a JSON string or plain text ("silence not found", "start time must be ...").
    QString said;
    const QJsonDocument doc = body.size() <= 64 * 1024 ? QJsonDocument::fromJson("[" + body + "]") : QJsonDocument();
    if (doc.isArray() && doc.array().at(0).isString())
        said = doc.array().at(0).toString();
    else if (body.size() <= 64 * 1024)
        said = QString::fromUtf8(body).trimmed();
    said = bounded(said.isEmpty() ? reasonPhrase : said, 300);
    const QString tail = said.isEmpty() ? QString() : QStringLiteral(": ") + said;
    switch (httpStatus) {
    case 400:
        return QStringLiteral("Alertmanager refused the request (400)%1").arg(tail);
    case 401:
    case 403:
        return QStringLiteral("Alertmanager did not accept the credentials (%1)%2").arg(httpStatus).arg(tail);
    case 404:
        return QStringLiteral("Alertmanager has no such silence (404)%1").arg(tail);
    default:
        return QStringLiteral("Alertmanager answered HTTP %1%2").arg(httpStatus).arg(tail);
    }
}

Result<QList<AmAlert>> AlertmanagerClient::decodeAlertGroups(const QByteArray &body)
{
    using R = Result<QList<AmAlert>>;
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &error);
    if (!doc.isArray())
        return R::failure(QStringLiteral("the alert groups are not a list (%1)").arg(error.errorString()));
    QList<AmAlert> out;
    QSet<QString> seen; // an alert routed to several receivers is in several groups: shown once
    const QJsonArray groups = doc.array();
    for (const QJsonValue &g : groups) {
        const QJsonValue alerts = g.toObject().value(QLatin1String("alerts"));
        if (!alerts.isArray())
            return R::failure(QStringLiteral("a group has no list of alerts"));
        const QJsonArray members = alerts.toArray();
        for (const QJsonValue &a : members) {
            const QJsonObject o = a.toObject();
            AmAlert alert;
            alert.fingerprint = bounded(o.value(QLatin1String("fingerprint")).toString(), 64);
            if (alert.fingerprint.isEmpty())
                return R::failure(QStringLiteral("an alert has no fingerprint"));
            if (seen.contains(alert.fingerprint))
                continue;
            if (out.size() >= kMaxAlerts)
                return R::failure(QStringLiteral("more than %1 alerts").arg(kMaxAlerts));
            auto labels = textMap(o.value(QLatin1String("labels")), QStringLiteral("an alert's labels"));
            if (!labels)
                return R::failure(labels.error());
            auto annotations = textMap(o.value(QLatin1String("annotations")), QStringLiteral("an alert's annotations"));
            if (!annotations)
                return R::failure(annotations.error());
            alert.labels = labels.take();
            alert.annotations = annotations.take();
            const QJsonObject status = o.value(QLatin1String("status")).toObject();
            alert.state = status.value(QLatin1String("state")).toString();
            if (alert.state != QLatin1String("active") && alert.state != QLatin1String("suppressed")
                && alert.state != QLatin1String("unprocessed"))
                return R::failure(QStringLiteral("an alert's state is \"%1\"").arg(bounded(alert.state, 40)));
            alert.silencedBy = idList(status.value(QLatin1String("silencedBy")));
            alert.inhibitedBy = idList(status.value(QLatin1String("inhibitedBy")));
            alert.startsAt = timeOf(o.value(QLatin1String("startsAt")));
            alert.updatedAt = timeOf(o.value(QLatin1String("updatedAt")));
            seen.insert(alert.fingerprint);
            out << alert;
        }
    }
    return R::success(out);
}

Result<QList<AmSilence>> AlertmanagerClient::decodeSilences(const QByteArray &body)
{
    using R = Result<QList<AmSilence>>;
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &error);
    if (!doc.isArray())
        return R::failure(QStringLiteral("the silences are not a list (%1)").arg(error.errorString()));
    if (doc.array().size() > kMaxSilences)
        return R::failure(QStringLiteral("more than %1 silences").arg(kMaxSilences));
    QList<AmSilence> out;
    const QJsonArray all = doc.array();
    for (const QJsonValue &v : all) {
        const QJsonObject o = v.toObject();
        AmSilence s;
        s.id = o.value(QLatin1String("id")).toString();
        if (const QString problem = idProblem(s.id, QStringLiteral("silence")); !problem.isEmpty())
            return R::failure(problem);
        s.state = o.value(QLatin1String("status")).toObject().value(QLatin1String("state")).toString();
        if (s.state != QLatin1String("active") && s.state != QLatin1String("pending")
            && s.state != QLatin1String("expired"))
            return R::failure(QStringLiteral("silence %1's state is \"%2\"").arg(s.id, bounded(s.state, 40)));
        const QJsonArray matchers = o.value(QLatin1String("matchers")).toArray();
        if (matchers.size() > kMaxLabels)
            return R::failure(QStringLiteral("silence %1 has %2 matchers").arg(s.id).arg(matchers.size()));
        for (const QJsonValue &m : matchers) {
            const QJsonObject mo = m.toObject();
            AmMatcher matcher;
            matcher.name = bounded(mo.value(QLatin1String("name")).toString(), 200);
            matcher.value = bounded(mo.value(QLatin1String("value")).toString(), kMaxText);
            matcher.isRegex = mo.value(QLatin1String("isRegex")).toBool();
            matcher.isEqual = mo.value(QLatin1String("isEqual")).toBool(true);
            s.matchers << matcher;
        }
        s.startsAt = timeOf(o.value(QLatin1String("startsAt")));
        s.endsAt = timeOf(o.value(QLatin1String("endsAt")));
        s.updatedAt = timeOf(o.value(QLatin1String("updatedAt")));
        if (s.startsAt <= 0 || s.endsAt <= 0)
            return R::failure(QStringLiteral("silence %1 has no readable start or end").arg(s.id));
        s.createdBy = bounded(o.value(QLatin1String("createdBy")).toString(), 200);
        s.comment = bounded(o.value(QLatin1String("comment")).toString(), kMaxText);
        out << s;
    }
    return R::success(out);
}

void AlertmanagerClient::alerts(QObject *context, Callback<QList<AmAlert>> done)
{
    HttpTransport::Request r;
    r.path = QStringLiteral("/api/v2/alerts/groups");
    m_http->send(r, context, decoding<QList<AmAlert>>(std::move(done), &decodeAlertGroups));
}

void AlertmanagerClient::silences(QObject *context, Callback<QList<AmSilence>> done)
{
    HttpTransport::Request r;
    r.path = QStringLiteral("/api/v2/silences");
    m_http->send(r, context, decoding<QList<AmSilence>>(std::move(done), &decodeSilences));
}

void AlertmanagerClient::createSilence(const QList<AmMatcher> &matchers, qint64 endsAtMs, const QString &createdBy,
    const QString &comment, const QString &key, QObject *context, Callback<QString> done)
{
    QJsonArray ms;
    for (const AmMatcher &m : matchers)
        ms.append(QJsonObject { { QStringLiteral("name"), m.name }, { QStringLiteral("value"), m.value },
            { QStringLiteral("isRegex"), m.isRegex }, { QStringLiteral("isEqual"), m.isEqual } });
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const QString mark = keyMark(key);
    const QJsonObject body { { QStringLiteral("matchers"), ms }, { QStringLiteral("startsAt"), formatIsoUtc(now) },
        { QStringLiteral("endsAt"), formatIsoUtc(endsAtMs) }, { QStringLiteral("createdBy"), createdBy },
        { QStringLiteral("comment"), QString(comment + QLatin1Char(' ') + mark) } };
    HttpTransport::Request r;
    r.verb = "POST";
    r.path = QStringLiteral("/api/v2/silences");
    r.body = QJsonDocument(body).toJson(QJsonDocument::Compact);
    QPointer<QObject> guard(context);
    // No idempotency key in the API: after an unknown outcome the silences are read for this request's key.
    auto lookUp = [this, guard, mark, done](std::function<void(HttpTransport::Found)> happened) {
        silences(guard.data(), [mark, done, happened](ApiResult<QList<AmSilence>> all) {
            if (!all.ok()) {
                happened(HttpTransport::Found::Unknown);
                return;
            }
            for (const AmSilence &s : *all) {
                if (s.comment.contains(mark)) {
                    done(ApiResult<QString>::success(s.id));
                    happened(HttpTransport::Found::Yes);
                    return;
                }
            }
            happened(HttpTransport::Found::No);
        });
    };
    m_http->sendOnce(r, context, decoding<QString>(std::move(done), &decodeSilenceId), std::move(lookUp),
        QStringLiteral("create silence"));
}

void AlertmanagerClient::expireSilence(const QString &id, QObject *context, Callback<bool> done)
{
    if (refuseBadId(id, QStringLiteral("silence"), context, done))
        return;
    HttpTransport::Request r;
    r.verb = "DELETE";
    r.path = QStringLiteral("/api/v2/silence/") + id;
    QPointer<QObject> guard(context);
    // Expiring twice does no harm, but an unknown outcome is still looked up: expired is an answer, not a guess.
    auto lookUp = [this, guard, id, done](std::function<void(HttpTransport::Found)> happened) {
        silences(guard.data(), [id, done, happened](ApiResult<QList<AmSilence>> all) {
            if (!all.ok()) {
                happened(HttpTransport::Found::Unknown);
                return;
            }
            for (const AmSilence &s : *all) {
                if (s.id == id && s.state == QLatin1String("expired")) {
                    done(ApiResult<bool>::success(true));
                    happened(HttpTransport::Found::Yes);
                    return;
                }
            }
            happened(HttpTransport::Found::No);
        });
    };
    m_http->sendOnce(r, context, decoding<bool>(std::move(done), &decodeNothing), std::move(lookUp),
        QStringLiteral("expire silence ") + id);
}

} // namespace fleet
