// The charts' live edge from Prometheus while the Fleet API's stream is down (issue #23), against real processes:
// fleet-sim on the wall clock (--start-now --speed 1), a real Prometheus 2.42 scraping its /metrics every second, and
// a console session with both. fleet-sim's own faults then answer every /v1/ request with 503 and cut the event
// stream (its /metrics still answers, as a real fleet's exporters would): the session is not live, and the store's
// timeline still moves forward, from Prometheus, with the line under the charts saying so; once the stream is back,
// that line goes. Skipped by name where Prometheus is not installed.

#include "fleetsession.h"
#include "fleetstore.h"
#include "historyloader.h"
#include "prometheus.h"
#include "prometheushistory.h"

#include <QDateTime>
#include <QEventLoop>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace fleet;

namespace {

quint16 freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

struct Process
{
    QProcess process;
    ~Process()
    {
        process.kill();
        process.waitForFinished(5000);
    }
};

} // namespace

class TestPrometheusLive : public QObject
{
    Q_OBJECT

    QByteArray request(
        const QByteArray &verb, const QUrl &url, const QByteArray &body = {}, const QByteArray &token = {})
    {
        QNetworkRequest r(url);
        r.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        if (!token.isEmpty())
            r.setRawHeader("Authorization", "Bearer " + token);
        std::unique_ptr<QNetworkReply> reply(m_nam.sendCustomRequest(r, verb, body));
        QEventLoop loop;
        connect(reply.get(), &QNetworkReply::finished, &loop, &QEventLoop::quit);
        QTimer::singleShot(10000, &loop, &QEventLoop::quit);
        loop.exec();
        return reply->isFinished() && reply->error() == QNetworkReply::NoError ? reply->readAll() : QByteArray();
    }

private Q_SLOTS:
    void theLiveEdgeComesFromPrometheusWhileTheStreamIsDown()
    {
        const QString prometheus = QStandardPaths::findExecutable(QStringLiteral("prometheus"));
        if (prometheus.isEmpty())
            QSKIP("prometheus is not installed (scripts/install-deps installs Debian's)");
        QTemporaryDir dir;
        const quint16 simPort = freePort();
        Process sim;
        sim.process.start(QStringLiteral(FLEET_SIM_BINARY),
            { QStringLiteral("--scenario"), QStringLiteral("upstream-packet-loss"), QStringLiteral("--port"),
                QString::number(simPort), QStringLiteral("--start-now"), QStringLiteral("--speed"), QStringLiteral("1"),
                QStringLiteral("--heartbeat-ms"), QStringLiteral("1000") });
        const QUrl api(QStringLiteral("http://127.0.0.1:%1").arg(simPort));
        QTRY_VERIFY_WITH_TIMEOUT(
            !request("GET", QUrl(api.toString() + QStringLiteral("/v1/me")), {}, "view-secret").isEmpty(), 30000);

        QFile config(dir.filePath(QStringLiteral("prometheus.yml")));
        QVERIFY(config.open(QIODevice::WriteOnly));
        config.write(QStringLiteral("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n"
                                    "  - job_name: fleet\n    authorization:\n      credentials: view-secret\n"
                                    "    static_configs:\n      - targets: ['127.0.0.1:%1']\n")
                         .arg(simPort)
                         .toUtf8());
        config.close();
        const quint16 promPort = freePort();
        Process prom;
        prom.process.setProcessChannelMode(QProcess::MergedChannels);
        prom.process.start(prometheus,
            { QStringLiteral("--config.file=") + config.fileName(),
                QStringLiteral("--storage.tsdb.path=") + dir.filePath(QStringLiteral("tsdb")),
                QStringLiteral("--web.listen-address=127.0.0.1:%1").arg(promPort),
                QStringLiteral("--log.level=warn") });
        const QUrl promUrl(QStringLiteral("http://127.0.0.1:%1").arg(promPort));
        // Ready, with a few scrapes in.
        QTRY_VERIFY_WITH_TIMEOUT(
            request("GET",
                QUrl(promUrl.toString()
                    + QStringLiteral("/api/v1/query?query=count_over_time(fleet_sim_time_seconds[1m])")))
                    .contains("\"value\":[")
                && !request("GET",
                    QUrl(promUrl.toString()
                        + QStringLiteral("/api/v1/query?query=count_over_time(fleet_sim_time_seconds[1m])%3E3")))
                        .contains("\"result\":[]"),
            60000);

        FleetSession session;
        PrometheusConfig pc;
        pc.url = promUrl;
        session.setPrometheus(pc, 1, PrometheusQueries::defaults());
        ConnectionProfile profile;
        profile.name = QStringLiteral("live-edge");
        profile.url = api;
        session.connectTo(profile, QStringLiteral("view-secret"));
        QTRY_VERIFY_WITH_TIMEOUT(session.isLive() && session.store()->isLoaded(), 20000);
        // Settings saved again with the same Prometheus (or the keychain answering with what is in use): the
        // connection keeps its history loader and its client. A changed one (another scrape interval) is taken at
        // once by the connection in progress, not at the next one.
        HistoryLoader *loader = session.historyLoader();
        session.setPrometheus(pc, 1, PrometheusQueries::defaults());
        QCOMPARE(session.historyLoader(), loader);
        session.setPrometheus(pc, 2, PrometheusQueries::defaults());
        QVERIFY(session.historyLoader() != loader);
        QTRY_VERIFY_WITH_TIMEOUT(session.historyLoader()->isIdle()
                && session.historyLoader()->note().startsWith(QLatin1String("History from Prometheus")),
            20000);
        QTest::qWait(2500); // the session sees the fleet on the wall clock while the stream is live

        // Every /v1/ request answered 503 for 15 s, and the stream cut: /metrics still answers.
        QVERIFY(!request("POST", QUrl(api.toString() + QStringLiteral("/v1/sim/faults")),
            R"({"type":"error","match":"/v1/","duration_ms":15000,"count":100000})", "admin-secret")
                     .isNull());
        request("POST", QUrl(api.toString() + QStringLiteral("/v1/sim/faults")), R"({"type":"cut_streams"})",
            "admin-secret");
        QTRY_VERIFY_WITH_TIMEOUT(!session.isLive(), 10000);
        const qint64 cutAt = session.store()->history().latestSecond();
        // The timeline moves on from Prometheus, and the line under the charts says why.
        QTRY_VERIFY2_WITH_TIMEOUT(!session.isLive() && session.store()->history().latestSecond() >= cutAt + 4
                && session.historyLoader()->note().contains(QLatin1String("live edge comes from Prometheus")),
            qPrintable(QStringLiteral("latest %1 (cut at %2), live %3, note: %4")
                           .arg(session.store()->history().latestSecond())
                           .arg(cutAt)
                           .arg(session.isLive())
                           .arg(session.historyLoader()->note())),
            12000);
        // The stream back: the line goes.
        QTRY_VERIFY_WITH_TIMEOUT(session.isLive(), 40000);
        QTRY_VERIFY_WITH_TIMEOUT(
            !session.historyLoader()->note().contains(QLatin1String("live edge comes from Prometheus")), 5000);
    }

private:
    QNetworkAccessManager m_nam;
};

QTEST_GUILESS_MAIN(TestPrometheusLive)
#include "tst_prometheuslive.moc"
