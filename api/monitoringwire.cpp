#include "alertmanager.h"
#include "clientconfig.h"
#include "isotime.h"
#include "prometheus.h"
#include "terminalsafe.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>

#include <cmath>
#include <limits>

// The monitoring services' answers, decoded and checked (issue #23): Prometheus's range queries and Alertmanager's
// alerts and silences. In the wire library with the Fleet API's and Statuspage's decoders, so the fuzz target
// (tests/fuzz/fuzz_monitoring.cpp) builds them without the clients; prometheus.cpp and alertmanager.cpp hold the rest.

namespace fleet {

namespace {

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
            out << boundedText(x.toString(), 128);
    return out;
}

} // namespace

QString idProblem(const QString &id, const QString &what)
{
    bool ok = !id.isEmpty() && id.size() <= kMaxIdLength && id.front() != u'.';
    for (qsizetype i = 0; ok && i < id.size(); ++i) {
        const char16_t c = id[i].unicode();
        ok = (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || (c >= u'0' && c <= u'9') || c == u'.' || c == u'_'
            || c == u':' || c == u'~' || c == u'-';
    }
    if (ok)
        return {};
    return QStringLiteral("the %1 id \"%2\"%3 is not one the API can give (1 to %4 of A-Z a-z 0-9 . _ : ~ -, not "
                          "starting with a dot); refused, nothing was sent")
        .arg(what, terminalSafe(id.left(40)), id.size() > 40 ? QStringLiteral("...") : QString())
        .arg(kMaxIdLength);
}

Result<PromMatrix> PrometheusClient::decodeMatrix(
    const QByteArray &body, qint64 fromSecond, qint64 toSecond, int stepSeconds)
{
    using R = Result<PromMatrix>;
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return R::failure(QStringLiteral("not a JSON object (%1)").arg(error.errorString()));
    const QJsonObject top = doc.object();
    const QString status = top.value(QLatin1String("status")).toString();
    if (status != QLatin1String("success"))
        return R::failure(QStringLiteral("status is \"%1\", not \"success\"").arg(boundedText(status, 40)));
    PromMatrix m;
    const QJsonArray warnings = top.value(QLatin1String("warnings")).toArray();
    for (const QJsonValue &w : warnings) {
        if (m.warnings.size() >= kMaxWarnings)
            break;
        if (w.isString())
            m.warnings << boundedText(w.toString(), 500);
    }
    const QJsonObject data = top.value(QLatin1String("data")).toObject();
    const QString type = data.value(QLatin1String("resultType")).toString();
    if (type != QLatin1String("matrix"))
        return R::failure(QStringLiteral("resultType is \"%1\", not \"matrix\"").arg(boundedText(type, 40)));
    const QJsonValue result = data.value(QLatin1String("result"));
    if (!result.isArray())
        return R::failure(QStringLiteral("data.result is not a list"));
    const QJsonArray series = result.toArray();
    if (series.size() > kMaxSeries)
        return R::failure(QStringLiteral("%1 series; at most %2 are read (make the query more specific)")
                              .arg(series.size())
                              .arg(kMaxSeries));
    const qint64 slack = std::max(stepSeconds, 1);
    for (qsizetype i = 0; i < series.size(); ++i) {
        const QJsonObject s = series.at(i).toObject();
        PromSeries out;
        const QJsonObject metric = s.value(QLatin1String("metric")).toObject();
        if (metric.size() > 64)
            return R::failure(QStringLiteral("series %1 has %2 labels (at most 64)").arg(i).arg(metric.size()));
        for (auto it = metric.begin(); it != metric.end(); ++it) {
            if (it.key().size() > 200 || !it.value().isString() || it.value().toString().size() > kMaxLabelText)
                return R::failure(QStringLiteral("series %1 has a label that is not short text").arg(i));
            out.labels.insert(it.key(), it.value().toString());
        }
        const QJsonValue values = s.value(QLatin1String("values"));
        if (!values.isArray())
            return R::failure(QStringLiteral("series %1 has no list of values").arg(i));
        const QJsonArray points = values.toArray();
        if (points.size() > kMaxPointsPerSeries)
            return R::failure(QStringLiteral("series %1 has %2 points; Prometheus sends at most %3")
                                  .arg(i)
                                  .arg(points.size())
                                  .arg(kMaxPointsPerSeries));
        out.points.reserve(std::size_t(points.size()));
        for (const QJsonValue &p : points) {
            const QJsonArray pair = p.toArray();
            if (pair.size() != 2 || !pair.at(0).isDouble() || !pair.at(1).isString())
                return R::failure(QStringLiteral("series %1 has a point that is not [time, \"value\"]").arg(i));
            const double t = pair.at(0).toDouble();
            if (!std::isfinite(t) || t < double(fromSecond - slack) || t > double(toSecond + slack))
                return R::failure(QStringLiteral("series %1 has a point at %2, outside the range asked (%3 to %4)")
                                      .arg(i)
                                      .arg(t, 0, 'f', 3)
                                      .arg(fromSecond)
                                      .arg(toSecond));
            const QString text = pair.at(1).toString();
            bool ok = false;
            double v = text.size() <= 64 ? text.toDouble(&ok) : 0.0;
            if (!ok) {
                if (text == QLatin1String("NaN") || text == QLatin1String("+Inf") || text == QLatin1String("-Inf")
                    || text == QLatin1String("Inf"))
                    v = std::numeric_limits<double>::quiet_NaN();
                else
                    return R::failure(QStringLiteral("series %1 has a value that is not a number: \"%2\"")
                                          .arg(i)
                                          .arg(boundedText(text, 40)));
            }
            if (!std::isfinite(v))
                v = std::numeric_limits<double>::quiet_NaN(); // drawn as a gap
            out.points.emplace_back(qint64(std::llround(t)), v);
        }
        m.series.push_back(std::move(out));
    }
    return R::success(std::move(m));
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
            alert.fingerprint = boundedText(o.value(QLatin1String("fingerprint")).toString(), 64);
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
                return R::failure(QStringLiteral("an alert's state is \"%1\"").arg(boundedText(alert.state, 40)));
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
            return R::failure(QStringLiteral("silence %1's state is \"%2\"").arg(s.id, boundedText(s.state, 40)));
        const QJsonArray matchers = o.value(QLatin1String("matchers")).toArray();
        if (matchers.size() > kMaxLabels)
            return R::failure(QStringLiteral("silence %1 has %2 matchers").arg(s.id).arg(matchers.size()));
        for (const QJsonValue &m : matchers) {
            const QJsonObject mo = m.toObject();
            AmMatcher matcher;
            matcher.name = boundedText(mo.value(QLatin1String("name")).toString(), 200);
            matcher.value = boundedText(mo.value(QLatin1String("value")).toString(), kMaxText);
            matcher.isRegex = mo.value(QLatin1String("isRegex")).toBool();
            matcher.isEqual = mo.value(QLatin1String("isEqual")).toBool(true);
            s.matchers << matcher;
        }
        s.startsAt = timeOf(o.value(QLatin1String("startsAt")));
        s.endsAt = timeOf(o.value(QLatin1String("endsAt")));
        s.updatedAt = timeOf(o.value(QLatin1String("updatedAt")));
        if (s.startsAt <= 0 || s.endsAt <= 0)
            return R::failure(QStringLiteral("silence %1 has no readable start or end").arg(s.id));
        s.createdBy = boundedText(o.value(QLatin1String("createdBy")).toString(), 200);
        s.comment = boundedText(o.value(QLatin1String("comment")).toString(), kMaxText);
        out << s;
    }
    return R::success(out);
}

} // namespace fleet
