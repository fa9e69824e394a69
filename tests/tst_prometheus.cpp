// The Prometheus client and history source (issue #23, part 1) against answers a Prometheus might send and answers
// no Prometheus should: every answer is checked, gaps stay gaps, errors are said in words, the step never asks for
// more than Prometheus gives, and a region id cannot leave its PromQL string. The real Prometheus is in
// tests/prometheus/prometheus-alertmanager.sh.

#include "alertmanager.h"
#include "alertwatch.h"
#include "hostileserver.h"
#include "prometheus.h"
#include "prometheushistory.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>

#include <cmath>
#include <optional>

using namespace fleet;

namespace {

QByteArray matrix(const QByteArray &series, const QByteArray &extra = {})
{
    return R"({"status":"success",)" + extra + R"("data":{"resultType":"matrix","result":[)" + series + "]}}";
}

} // namespace

// A stand-in for the Fleet API's history (tst_fleetstore reads the real one from a simulator): one bucket a second,
// at most `max` seconds a request.
struct FleetApiStandIn : HistorySource
{
    int asked = 0;
    int max = 10000;
    QString name() const override { return QStringLiteral("Fleet API"); }
    int maxPointsPerRequest() const override { return max; }
    void fetch(const QString &region, qint64 from, qint64 to, int step, QObject *context,
        std::function<void(ApiResult<HealthHistory>)> done) override
    {
        ++asked;
        HealthHistory h;
        h.region = region;
        h.from = from * 1000;
        h.to = to * 1000;
        h.stepSeconds = step;
        for (qint64 t = from; t < to; t += std::max(step, 1)) {
            HealthSample sample;
            sample.time = t * 1000;
            h.buckets.push_back(sample);
        }
        QTimer::singleShot(0, context, [done, h] { done(ApiResult<HealthHistory>::success(h)); });
    }
};

class TestPrometheus : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void stepNeverAsksForMoreThanPrometheusGives_data()
    {
        QTest::addColumn<qint64>("range");
        QTest::addColumn<int>("columns");
        QTest::addColumn<int>("scrape");
        QTest::addColumn<int>("step");
        QTest::newRow("1 h on 1920 px, 15 s scrape") << qint64(3600) << 1920 << 15 << 15;
        QTest::newRow("24 h on 1920 px") << qint64(86400) << 1920 << 15 << 45;
        QTest::newRow("30 d on 1920 px") << qint64(30 * 86400) << 1920 << 15 << 1350;
        QTest::newRow("30 d on 40,000 px: the point limit") << qint64(30 * 86400) << 40000 << 1 << 260;
        QTest::newRow("1 min, 1 s scrape") << qint64(60) << 1920 << 1 << 1;
    }
    void stepNeverAsksForMoreThanPrometheusGives()
    {
        QFETCH(qint64, range);
        QFETCH(int, columns);
        QFETCH(int, scrape);
        QFETCH(int, step);
        const int got = PrometheusClient::stepFor(range, columns, scrape);
        QCOMPARE(got, step);
        QVERIFY(range / got <= 10000); // under Prometheus's 11,000 points
        QVERIFY(got >= scrape);
    }

    void answersAreChecked_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("words");
        QTest::newRow("not JSON") << QByteArray("<html>proxy</html>") << QStringLiteral("not a JSON object");
        QTest::newRow("an error status") << QByteArray(R"({"status":"error","data":{}})")
                                         << QStringLiteral("\"error\"");
        QTest::newRow("a vector, not a matrix")
            << QByteArray(R"({"status":"success","data":{"resultType":"vector","result":[]}})")
            << QStringLiteral("not \"matrix\"");
        QTest::newRow("a point outside the range")
            << matrix(R"({"metric":{},"values":[[99999999999,"1"]]})") << QStringLiteral("outside the range");
        QTest::newRow("a value that is not a number")
            << matrix(R"({"metric":{},"values":[[1000,"1e3x"]]})") << QStringLiteral("not a number");
        QTest::newRow("a point that is not a pair")
            << matrix(R"({"metric":{},"values":[[1000]]})") << QStringLiteral("[time, \"value\"]");
        QTest::newRow("a label that is not text")
            << matrix(R"({"metric":{"region":{"x":1}},"values":[]})") << QStringLiteral("not short text");
        QByteArray many;
        for (int i = 0; i <= PrometheusClient::kMaxSeries; ++i)
            many += QByteArray(i ? "," : "") + R"({"metric":{},"values":[]})";
        QTest::newRow("too many series") << matrix(many) << QStringLiteral("more specific");
        QByteArray points;
        for (int i = 0; i <= PrometheusClient::kMaxPointsPerSeries; ++i)
            points += QByteArray(i ? "," : "") + "[1000,\"1\"]";
        QTest::newRow("too many points") << matrix(R"({"metric":{},"values":[)" + points + "]}")
                                         << QStringLiteral("at most 11000");
    }
    void answersAreChecked()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, words);
        const auto decoded = PrometheusClient::decodeMatrix(body, 1000, 2000, 10);
        QVERIFY(!decoded.ok());
        QVERIFY2(decoded.error().contains(words), qPrintable(decoded.error()));
    }

    void gapsStayGapsAndLabelsStayText()
    {
        const auto decoded = PrometheusClient::decodeMatrix(
            matrix(
                R"({"metric":{"region":"<b>eu</b>"},"values":[[1000,"0.5"],[1010,"NaN"],[1020,"+Inf"],[1030,"-Inf"],[1040,"1e-3"]]})",
                R"("warnings":["the query hit 1 of 2 shards"],)"),
            1000, 2000, 10);
        QVERIFY2(decoded.ok(), qPrintable(decoded.error()));
        const PromSeries &s = decoded->series.at(0);
        QCOMPARE(s.labels.value(QStringLiteral("region")), QStringLiteral("<b>eu</b>")); // as text, never parsed
        QCOMPARE(s.points.size(), std::size_t(5));
        QCOMPARE(s.points[0].second, 0.5);
        QVERIFY(std::isnan(s.points[1].second));
        QVERIFY(std::isnan(s.points[2].second)); // infinities are gaps, not a line to the top of the chart
        QVERIFY(std::isnan(s.points[3].second));
        QCOMPARE(s.points[4].second, 0.001);
        QCOMPARE(decoded->warnings, QStringList { QStringLiteral("the query hit 1 of 2 shards") });
    }

    void errorsAreSaidInWords_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("words");
        QTest::newRow("400") << 400 << QStringLiteral("malformed (400 bad_data): parse error");
        QTest::newRow("422") << 422 << QStringLiteral("could not evaluate the query (422 bad_data)");
        QTest::newRow("503") << 503 << QStringLiteral("overloaded, timed out or shutting down (503 bad_data)");
    }
    void errorsAreSaidInWords()
    {
        QFETCH(int, status);
        QFETCH(QString, words);
        const QString said = PrometheusClient::describeError(
            status, R"({"status":"error","errorType":"bad_data","error":"parse error: unexpected"})", QString());
        QVERIFY2(said.contains(words), qPrintable(said));
    }

    void historyMergesTheSeriesAndKeepsTheCredentialsHome()
    {
        // A Prometheus that answers each of the five queries by what it asks for, and records what it was sent.
        HostileServer server([](QTcpSocket *socket, const HostileServer::Request &r) {
            const QByteArray path = QByteArray::fromPercentEncoding(r.path);
            QByteArray series;
            if (path.contains("packet_loss"))
                series = R"({"metric":{},"values":[[1000,"0.07"],[1060,"NaN"]]})";
            else if (path.contains("rtt_p95"))
                series = R"({"metric":{},"values":[[1000,"0.25"]]})";
            else if (path.contains("failures"))
                series = R"({"metric":{"reason":"ETIMEDOUT"},"values":[[1000,"0.5"]]},)"
                         R"({"metric":{"reason":"<script>"},"values":[[1000,"9"]]})";
            else if (path.contains("fleet_workers"))
                series
                    = R"({"metric":{"state":"idle"},"values":[[1000,"12"]]},{"metric":{"state":"busy"},"values":[[1000,"30"]]})";
            else
                series = R"({"metric":{},"values":[[1000,"4"]]})";
            HostileServer::reply(socket, 200, "application/json", matrix(series, R"("warnings":["partial"],)"));
        });
        PrometheusConfig config;
        config.url = QUrl(QString::fromLatin1(server.origin()));
        config.bearerToken = QStringLiteral("prom-token-8c1d");
        PrometheusClient client(config);
        PrometheusHistory history(&client, PrometheusQueries::defaults(), 60);
        std::optional<ApiResult<HealthHistory>> got;
        QObject context;
        history.fetch(QStringLiteral("eu-west"), 1000, 1120, 10, &context, [&](auto r) { got = std::move(r); });
        QTRY_VERIFY_WITH_TIMEOUT(got.has_value(), 10000);
        QVERIFY2(got->ok(), qPrintable(got->error().message));
        const HealthHistory &h = **got;
        QCOMPARE(h.stepSeconds, 60); // never finer than the scrape interval
        QCOMPARE(h.buckets.size(), std::size_t(2));
        const HealthSample &b = h.buckets[0];
        QCOMPARE(b.samples, 1);
        QCOMPARE(b.packetLoss, 0.07);
        QCOMPARE(b.rttP95Ms, 250.0);
        QCOMPARE(b.failures[int(FailureReason::ETimedOut)], 30); // 0.5/s over a 60 s bucket
        QCOMPARE(b.buildsFailed, 30); // the reason the Fleet API does not name is not drawn
        QCOMPARE(b.workersByState[int(WorkerState::Idle)], 12);
        QCOMPARE(b.workersByState[int(WorkerState::Busy)], 30);
        QCOMPARE(b.queueDepth, 4);
        QCOMPARE(h.buckets[1].samples, 0); // only NaN there: a gap
        QCOMPARE(h.warnings, QStringList { QStringLiteral("partial") });
        QCOMPARE(server.requests().size(), 5);
        for (const auto &r : server.requests()) {
            QCOMPARE(r.header("authorization"), QByteArray("Bearer prom-token-8c1d"));
            QVERIFY2(QByteArray::fromPercentEncoding(r.path).contains("region=\"eu-west\""), r.path.constData());
        }

        // An id that would leave its string is refused before anything is sent.
        got.reset();
        history.fetch(
            QStringLiteral("eu\"}) or vector(1"), 1000, 1120, 10, &context, [&](auto r) { got = std::move(r); });
        QTRY_VERIFY_WITH_TIMEOUT(got.has_value(), 5000);
        QCOMPARE(got->error().kind, ApiError::Kind::Invalid);
        QCOMPARE(server.requests().size(), 5);
    }

    void theFleetApiStandsInWhenPrometheusCannotAnswer()
    {
        bool overloaded = true;
        HostileServer server([&](QTcpSocket *socket, const HostileServer::Request &) {
            if (overloaded)
                return HostileServer::reply(socket, 503, "application/json",
                    R"({"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"})");
            HostileServer::reply(socket, 200, "application/json",
                matrix(R"({"metric":{},"values":[[1000,"0.1"]]})", R"("warnings":["<b>partial</b> answer"],)"));
        });
        PrometheusConfig config;
        config.url = QUrl(QString::fromLatin1(server.origin()));
        config.requestTimeoutMs = 3000;
        PrometheusClient client(config);
        auto standIn = std::make_unique<FleetApiStandIn>();
        FleetApiStandIn *fallback = standIn.get();
        FallbackHistory history(
            std::make_unique<PrometheusHistory>(&client, PrometheusQueries::defaults(), 1), std::move(standIn));
        QObject context;
        std::optional<ApiResult<HealthHistory>> got;
        history.fetch(QStringLiteral("eu-west"), 1000, 1060, 1, &context, [&](auto r) { got = std::move(r); });
        QTRY_VERIFY_WITH_TIMEOUT(got.has_value(), 30000); // 503 is tried again (Retry-After absent: a few times)
        QVERIFY(got->ok());
        QCOMPARE(fallback->asked, 1);
        QVERIFY2(history.note().contains(QLatin1String("Prometheus cannot be used"))
                && history.note().contains(QLatin1String("503 timeout"))
                && history.note().contains(QLatin1String("History from the Fleet API")),
            qPrintable(history.note()));
        // Within the minute, Prometheus is not asked again.
        const int before = server.requests().size();
        got.reset();
        history.fetch(QStringLiteral("eu-west"), 1060, 1120, 1, &context, [&](auto r) { got = std::move(r); });
        QTRY_VERIFY_WITH_TIMEOUT(got.has_value(), 5000);
        QCOMPARE(server.requests().size(), before);
        QCOMPARE(fallback->asked, 2);

        // A Prometheus that answers is the source, its warnings said (as text: the label shows it plainly).
        overloaded = false;
        FallbackHistory healthy(std::make_unique<PrometheusHistory>(&client, PrometheusQueries::defaults(), 1),
            std::make_unique<FleetApiStandIn>());
        got.reset();
        healthy.fetch(QStringLiteral("eu-west"), 1000, 1060, 1, &context, [&](auto r) { got = std::move(r); });
        QTRY_VERIFY_WITH_TIMEOUT(got.has_value(), 10000);
        QVERIFY(got->ok());
        QCOMPARE(healthy.note(), QStringLiteral("History from Prometheus. Prometheus warns: <b>partial</b> answer"));
    }

    // Prometheus covers a day in one chunk; when it cannot, the Fleet API is asked for that chunk in the pieces it
    // accepts, oldest first, and they come back as one history in time order.
    void aLongChunkIsAskedOfTheFallbackInPieces()
    {
        HostileServer server([&](QTcpSocket *socket, const HostileServer::Request &) {
            HostileServer::reply(
                socket, 400, "application/json", R"({"status":"error","errorType":"bad_data","error":"parse error"})");
        });
        PrometheusConfig config;
        config.url = QUrl(QString::fromLatin1(server.origin()));
        PrometheusClient client(config);
        auto primary = std::make_unique<PrometheusHistory>(&client, PrometheusQueries::defaults(), 15);
        QCOMPARE(primary->maxPointsPerRequest(), 150000); // 10,000 points at the 15-s scrape step
        auto standIn = std::make_unique<FleetApiStandIn>();
        standIn->max = 100;
        FleetApiStandIn *fallback = standIn.get();
        FallbackHistory history(std::move(primary), std::move(standIn));
        QCOMPARE(history.maxPointsPerRequest(), 150000);
        QObject context;
        std::optional<ApiResult<HealthHistory>> got;
        history.fetch(QStringLiteral("eu-west"), 1000, 1350, 1, &context, [&](auto r) { got = std::move(r); });
        QTRY_VERIFY_WITH_TIMEOUT(got.has_value(), 10000);
        QVERIFY2(got->ok(), qPrintable(got->error().message));
        QCOMPARE(fallback->asked, 4); // 100 + 100 + 100 + 50 seconds
        QCOMPARE(got->value().from, 1000'000);
        QCOMPARE(got->value().to, 1350'000);
        QCOMPARE(got->value().buckets.size(), std::size_t(350));
        for (std::size_t i = 0; i < got->value().buckets.size(); ++i)
            QCOMPARE(got->value().buckets[i].time, qint64(1000 + i) * 1000);
    }

    void alertmanagerAnswersAreChecked()
    {
        const QByteArray alert
            = R"({"fingerprint":"f1","labels":{"alertname":"<b>Loss</b>","region":"eu-west"},"annotations":{},)"
              R"("status":{"state":"suppressed","silencedBy":["s-1"],"inhibitedBy":[]},)"
              R"("startsAt":"2026-12-05T04:31:02.123456789Z","updatedAt":"2026-12-05T04:31:03Z"})";
        // Routed to two receivers, the alert is in two groups: listed once.
        const auto alerts
            = AlertmanagerClient::decodeAlertGroups("[{\"alerts\":[" + alert + "]},{\"alerts\":[" + alert + "]}]");
        QVERIFY2(alerts.ok(), qPrintable(alerts.error()));
        QCOMPARE(alerts->size(), 1);
        QCOMPARE(alerts->at(0).name(), QStringLiteral("<b>Loss</b>")); // text, never markup
        QCOMPARE(alerts->at(0).silencedBy, QStringList { QStringLiteral("s-1") });
        QCOMPARE(alerts->at(0).startsAt, 1796445062123LL); // nanoseconds cut to milliseconds
        QVERIFY(!AlertmanagerClient::decodeAlertGroups(R"([{"alerts":[{"fingerprint":"f","status":{"state":"x"}}]}])")
                     .ok());
        QVERIFY(!AlertmanagerClient::decodeAlertGroups(R"([{"alerts":[{"fingerprint":"f","labels":{"a":1}}]}])").ok());
        const auto silences = AlertmanagerClient::decodeSilences(
            R"([{"id":"../../api/v2/status","status":{"state":"active"},"matchers":[],)"
            R"("startsAt":"2026-12-05T04:31:02Z","endsAt":"2026-12-05T05:01:02Z"}])");
        QVERIFY(!silences.ok()); // an id that would leave its path segment
        QVERIFY2(silences.error().contains(QLatin1String("silence")), qPrintable(silences.error()));
    }

    void aSilenceWhoseAnswerIsLostIsFoundNotMadeTwice()
    {
        // The POST is read whole and the connection closed without an answer; the silences then hold it.
        QByteArray created;
        HostileServer server([&](QTcpSocket *socket, const HostileServer::Request &r) {
            if (r.method == "POST") {
                created = r.body;
                socket->abort();
                return;
            }
            const QString comment
                = QJsonDocument::fromJson(created).object().value(QLatin1String("comment")).toString();
            const QByteArray list = created.isEmpty()
                ? QByteArray("[]")
                : "[{\"id\":\"4f0c\",\"status\":{\"state\":\"active\"},\"matchers\":[],"
                  "\"startsAt\":\"2026-12-05T04:31:02Z\",\"endsAt\":\"2026-12-05T05:01:02Z\",\"createdBy\":\"olu\","
                  "\"comment\":"
                    + QJsonDocument(QJsonArray { comment }).toJson(QJsonDocument::Compact).mid(1).chopped(1) + "}]";
            HostileServer::reply(socket, 200, "application/json", list);
        });
        AlertmanagerConfig config;
        config.url = QUrl(QString::fromLatin1(server.origin()));
        config.requestTimeoutMs = 3000;
        AlertmanagerClient client(config);
        std::optional<ApiResult<QString>> got;
        QObject context;
        client.createSilence({ AmMatcher { QStringLiteral("region"), QStringLiteral("eu-west"), false, true } },
            QDateTime::currentMSecsSinceEpoch() + 1800000, QStringLiteral("olu"), QStringLiteral("draining"),
            QStringLiteral("k-77"), &context, [&](auto r) { got = std::move(r); });
        QTRY_VERIFY_WITH_TIMEOUT(got.has_value(), 20000);
        QVERIFY2(got->ok(), qPrintable(got->error().message));
        QCOMPARE(**got, QStringLiteral("4f0c"));
        int posts = 0;
        for (const auto &r : server.requests())
            posts += r.method == "POST" ? 1 : 0;
        QCOMPARE(posts, 1); // found by its key: never sent again
    }

    void alertsAreWatchedAndGoStaleWhenAlertmanagerStopsAnswering()
    {
        bool down = false;
        HostileServer server([&](QTcpSocket *socket, const HostileServer::Request &) {
            if (down)
                return HostileServer::reply(socket, 503, "text/plain", "shutting down");
            HostileServer::reply(socket, 200, "application/json",
                R"([{"alerts":[{"fingerprint":"a","labels":{"alertname":"FleetRegionPacketLoss","region":"eu-west"},)"
                R"("status":{"state":"active","silencedBy":[],"inhibitedBy":[]},"startsAt":"2026-12-05T04:00:00Z"},)"
                R"({"fingerprint":"b","labels":{"alertname":"Timeouts","region":"eu-west"},)"
                R"("status":{"state":"suppressed","silencedBy":["s1"],"inhibitedBy":[]},"startsAt":"2026-12-05T04:00:00Z"},)"
                R"({"fingerprint":"c","labels":{"alertname":"Other","region":"us-east"},)"
                R"("status":{"state":"active","silencedBy":[],"inhibitedBy":[]},"startsAt":"2026-12-05T04:00:00Z"}]}])");
        });
        AlertmanagerConfig config;
        config.url = QUrl(QString::fromLatin1(server.origin()));
        config.requestTimeoutMs = 2000;
        AlertWatch watch(config, 1);
        QTRY_VERIFY_WITH_TIMEOUT(watch.lastSuccessMs() > 0, 10000);
        QCOMPARE(watch.alertsFor(QStringLiteral("eu-west")).size(), 2);
        QCOMPARE(AlertWatch::summary(watch.alertsFor(QStringLiteral("eu-west"))),
            QStringLiteral("FleetRegionPacketLoss firing since 04:00 UTC · Timeouts silenced"));
        QCOMPARE(AlertWatch::brief(watch.alertsFor(QStringLiteral("eu-west"))),
            QStringLiteral("1 firing: FleetRegionPacketLoss · 1 silenced"));
        QVERIFY(!watch.isStale());
        QVERIFY2(watch.statusText(QDateTime::currentMSecsSinceEpoch()).startsWith(QLatin1String("Alertmanager polled")),
            qPrintable(watch.statusText(QDateTime::currentMSecsSinceEpoch())));
        down = true;
        QTRY_VERIFY_WITH_TIMEOUT(watch.isStale(), 60000); // three polls in a row failed
        QCOMPARE(watch.alertsFor(QStringLiteral("eu-west")).size(), 2); // still shown, as of their time
        const QString status = watch.statusText(QDateTime::currentMSecsSinceEpoch());
        QVERIFY2(status.contains(QLatin1String("polls missed")) && status.contains(QLatin1String("may be out of date")),
            qPrintable(status));
    }

    void aLongQueryGoesByPost()
    {
        HostileServer server([](QTcpSocket *socket, const HostileServer::Request &) {
            HostileServer::reply(socket, 200, "application/json", matrix(R"({"metric":{},"values":[[1000,"1"]]})"));
        });
        PrometheusConfig config;
        config.url = QUrl(QString::fromLatin1(server.origin()) + QStringLiteral("/prometheus"));
        PrometheusClient client(config);
        const QString longQuery = QStringLiteral("up") + QStringLiteral(" + 0*vector(1)").repeated(200);
        std::optional<ApiResult<PromMatrix>> got;
        QObject context;
        client.queryRange(longQuery, 1000, 1100, 10, &context, [&](auto r) { got = std::move(r); });
        QTRY_VERIFY_WITH_TIMEOUT(got.has_value(), 10000);
        QVERIFY2(got->ok(), qPrintable(got->error().message));
        QCOMPARE(server.requests().size(), 1);
        const auto &r = server.requests().first();
        QCOMPARE(r.method, QByteArray("POST"));
        QCOMPARE(r.path, QByteArray("/prometheus/api/v1/query_range")); // the URL's prefix kept
        QCOMPARE(r.header("content-type"), QByteArray("application/x-www-form-urlencoded"));
        QVERIFY2(QByteArray::fromPercentEncoding(r.body).contains(longQuery.toUtf8()), r.body.left(200).constData());
    }
};

QTEST_GUILESS_MAIN(TestPrometheus)
#include "tst_prometheus.moc"
