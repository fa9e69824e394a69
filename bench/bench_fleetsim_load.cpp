// fleet-sim under load: a 50,000-worker fleet, in-process (engine cost) and as a separate process serving a live
// event stream and snapshots over loopback (events per second sustained, CPU, RSS).
// Usage: bench_fleetsim_load [--workers N] [--window SECONDS] [--speeds 10,60,200]

#include "jsonwriter.h"
#include "simulation.h"
#include "wireencode.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QTimer>

#include <unistd.h>

#include <algorithm>
#include <cstdio>

using namespace fleet;
using namespace fleet::sim;

namespace {

struct ProcStats
{
    double cpuSeconds = 0;
    qint64 rssKiB = 0;
    qint64 peakRssKiB = 0;
};

ProcStats procStats(qint64 pid)
{
    ProcStats s;
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (stat.open(QIODevice::ReadOnly)) {
        const QByteArray line = stat.readAll();
        const QList<QByteArray> f = line.mid(line.lastIndexOf(')') + 2).split(' ');
        const double ticks = double(sysconf(_SC_CLK_TCK));
        s.cpuSeconds = (f.value(11).toDouble() + f.value(12).toDouble()) / ticks; // utime, stime
    }
    QFile status(QStringLiteral("/proc/%1/status").arg(pid));
    if (status.open(QIODevice::ReadOnly)) {
        for (const QByteArray &l : status.readAll().split('\n')) {
            if (l.startsWith("VmRSS:"))
                s.rssKiB = l.mid(6).trimmed().split(' ').first().toLongLong();
            if (l.startsWith("VmHWM:"))
                s.peakRssKiB = l.mid(6).trimmed().split(' ').first().toLongLong();
        }
    }
    return s;
}

ProcStats selfStats()
{
    return procStats(QCoreApplication::applicationPid());
}

QByteArray fetch(QNetworkAccessManager &nam, const QUrl &url, const QByteArray &token, double *ms,
    const QByteArray &verb = "GET", const QByteArray &body = {})
{
    QNetworkRequest request(url);
    request.setRawHeader("Authorization", "Bearer " + token);
    request.setTransferTimeout(60000);
    if (!body.isEmpty())
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    QElapsedTimer t;
    t.start();
    QNetworkReply *reply = nam.sendCustomRequest(request, verb, body);
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    if (ms)
        *ms = double(t.nsecsElapsed()) / 1e6;
    const QByteArray data = reply->readAll();
    reply->deleteLater();
    return data;
}

void inProcess(int workers)
{
    std::printf("\n== In-process engine, %d workers (scenario upstream-packet-loss, seed 1) ==\n", workers);
    QString error;
    auto scenario = Scenario::load(QStringLiteral("upstream-packet-loss"));
    SimulationOptions options;
    options.workers = workers;
    const ProcStats before = selfStats();
    QElapsedTimer t;
    t.start();
    Simulation sim(std::move(*scenario), options);
    const double createMs = double(t.nsecsElapsed()) / 1e6;
    std::printf("create fleet:                 %8.1f ms (%d workers, %d regions)\n", createMs, sim.workerCount(),
        sim.regionCount());

    for (const auto &[label, seconds] :
        { std::pair { "calm (08:00-08:50)", 3000 }, std::pair { "incident (08:50-10:30)", 6000 } }) {
        const qint64 events0 = sim.events().totalAppended();
        t.restart();
        sim.advance(seconds);
        const double ms = double(t.nsecsElapsed()) / 1e6;
        const double events = double(sim.events().totalAppended() - events0) / seconds;
        std::printf(
            "step, %-22s  %8.3f ms per simulated second, %7.0f events per simulated second -> up to %.0fx real time\n",
            label, ms / seconds, events, 1000.0 * seconds / ms);
    }

    QByteArray body;
    t.restart();
    for (int rep = 0; rep < 3; ++rep) {
        body.clear();
        body.reserve(qsizetype(sim.workerCount()) * 400);
        JsonWriter w(&body);
        w.beginArray();
        for (int i = 0; i < sim.workerCount(); ++i)
            writeWorker(w, sim.worker(i));
        w.endArray();
    }
    std::printf(
        "encode all workers as JSON:   %8.1f ms (%.1f MB)\n", double(t.nsecsElapsed()) / 3e6, body.size() / 1e6);
    t.restart();
    const QJsonDocument parsed = QJsonDocument::fromJson(body);
    std::printf("  (QJsonDocument parse of it: %8.1f ms, %lld workers)\n", double(t.nsecsElapsed()) / 1e6,
        qlonglong(parsed.array().size()));
    const ProcStats after = selfStats();
    std::printf("RSS growth for the fleet + 24 h history slots: %.1f MB (RSS now %.1f MB)\n",
        double(after.rssKiB - before.rssKiB) / 1024.0, after.rssKiB / 1024.0);
}

void outOfProcess(int workers, const QList<double> &speeds, int windowSeconds)
{
    std::printf("\n== fleet-sim process, %d workers, one SSE client and a snapshot reader over loopback ==\n", workers);
    std::printf("%8s %10s %12s %10s %10s %12s %14s %12s\n", "speed", "achieved", "events/s", "CPU %", "RSS MB",
        "me p50 ms", "me max ms", "snapshot ms");
    for (double speed : speeds) {
        QProcess sim;
        sim.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        sim.start(QStringLiteral(FLEET_SIM_BINARY),
            { QStringLiteral("--workers"), QString::number(workers), QStringLiteral("--speed"), QString::number(speed),
                QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--scenario"),
                QStringLiteral("upstream-packet-loss"), QStringLiteral("--rate-limit"), QStringLiteral("0"),
                QStringLiteral("--warmup"), QStringLiteral("3000") });
        QByteArray out;
        QRegularExpression listening(QStringLiteral("listening on (http://[^\\s]+)"));
        QString base;
        QElapsedTimer wait;
        wait.start();
        while (base.isEmpty() && wait.elapsed() < 120000) {
            sim.waitForReadyRead(1000);
            out += sim.readAllStandardOutput();
            const auto m = listening.match(QString::fromUtf8(out));
            if (m.hasMatch())
                base = m.captured(1);
        }
        if (base.isEmpty()) {
            std::printf("fleet-sim did not start\n");
            return;
        }
        QNetworkAccessManager nam;
        const auto status = [&] {
            return QJsonDocument::fromJson(
                fetch(nam, QUrl(base + QStringLiteral("/v1/sim/status")), "admin-secret", nullptr))
                .object();
        };

        // The event stream, counted as it arrives.
        qint64 events = 0;
        QNetworkRequest request(QUrl(base + QStringLiteral("/v1/events")));
        request.setRawHeader("Authorization", "Bearer view-secret");
        QNetworkReply *stream = nam.get(request);
        QObject::connect(stream, &QNetworkReply::readyRead, stream, [&] {
            const QByteArray chunk = stream->readAll();
            events += chunk.count("\nevent: ") + (chunk.startsWith("event: ") ? 1 : 0);
        });
        QEventLoop settle;
        QTimer::singleShot(2000, &settle, &QEventLoop::quit);
        settle.exec();

        const qint64 pid = sim.processId();
        const ProcStats p0 = procStats(pid);
        const QString simTime0 = status().value(QLatin1String("time")).toString();
        const qint64 events0 = events;
        QElapsedTimer window;
        window.start();
        std::vector<double> latencies;
        double snapshotMs = 0;
        bool snapshotTaken = false;
        while (window.elapsed() < windowSeconds * 1000) {
            double ms = 0;
            fetch(nam, QUrl(base + QStringLiteral("/v1/me")), "view-secret", &ms);
            latencies.push_back(ms);
            if (!snapshotTaken && window.elapsed() > windowSeconds * 500) {
                fetch(nam, QUrl(base + QStringLiteral("/v1/fleet/snapshot")), "view-secret", &snapshotMs);
                snapshotTaken = true;
            }
            QEventLoop pause;
            QTimer::singleShot(100, &pause, &QEventLoop::quit);
            pause.exec();
        }
        const double realSeconds = double(window.elapsed()) / 1000.0;
        const ProcStats p1 = procStats(pid);
        const QString simTime1 = status().value(QLatin1String("time")).toString();
        const double simSeconds = double(QDateTime::fromString(simTime1, Qt::ISODate).toSecsSinceEpoch()
            - QDateTime::fromString(simTime0, Qt::ISODate).toSecsSinceEpoch());
        std::sort(latencies.begin(), latencies.end());
        std::printf("%7.0fx %9.1fx %12.0f %10.0f %10.1f %12.2f %14.2f %12.0f\n", speed, simSeconds / realSeconds,
            double(events - events0) / realSeconds, 100.0 * (p1.cpuSeconds - p0.cpuSeconds) / realSeconds,
            p1.rssKiB / 1024.0, latencies[latencies.size() / 2], latencies.back(), snapshotMs);
        std::fflush(stdout);
        stream->abort();
        stream->deleteLater();
        sim.terminate();
        sim.waitForFinished(10000);
    }
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    const QCommandLineOption workersOpt(
        QStringLiteral("workers"), QStringLiteral("Fleet size."), QStringLiteral("n"), QStringLiteral("50000"));
    const QCommandLineOption windowOpt(QStringLiteral("window"), QStringLiteral("Seconds measured per speed."),
        QStringLiteral("s"), QStringLiteral("15"));
    const QCommandLineOption speedsOpt(QStringLiteral("speeds"), QStringLiteral("Simulation speeds to try."),
        QStringLiteral("list"), QStringLiteral("1,10,60,200,500"));
    parser.addOptions({ workersOpt, windowOpt, speedsOpt });
    parser.process(app);
    QList<double> speeds;
    for (const QString &s : parser.value(speedsOpt).split(u','))
        speeds << s.toDouble();
    std::printf(
        "bench_fleetsim_load: %d cores, fleet-sim at %s\n", int(sysconf(_SC_NPROCESSORS_ONLN)), FLEET_SIM_BINARY);
    inProcess(parser.value(workersOpt).toInt());
    outOfProcess(parser.value(workersOpt).toInt(), speeds, parser.value(windowOpt).toInt());
    return 0;
}
