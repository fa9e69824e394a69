#include "simharness.h"

#include <QBuffer>
#include <QEventLoop>
#include <QNetworkReply>
#include <QTest>
#include <QTimer>

using namespace fleet::sim;

QByteArray SimHarness::Response::header(const QByteArray &name) const
{
    for (const auto &[key, value] : headers) {
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            return value;
    }
    return {};
}

SimHarness::SimHarness()
    : SimHarness(Options {})
{
}

SimHarness::SimHarness(const Options &options)
{
    QString error;
    auto scenario = Scenario::load(options.scenario);
    if (!scenario)
        qFatal("scenario: %s", qPrintable(scenario.error()));
    SimulationOptions simOptions;
    simOptions.seed = options.seed;
    simOptions.workers = options.workers;
    simOptions.eventBufferSize = options.eventBuffer;
    simOptions.historySeconds = options.historySeconds;
    AccessControl access;
    access.addDefaultTokens();
    access.setRateLimit(options.rateLimit);
    ServerOptions serverOptions;
    serverOptions.speed = options.speed;
    serverOptions.heartbeatMs = options.heartbeatMs;
    serverOptions.tlsCertificateFile = options.tlsCertificateFile;
    serverOptions.tlsKeyFile = options.tlsKeyFile;
    m_scheme = options.tlsCertificateFile.isEmpty() ? QStringLiteral("http") : QStringLiteral("https");
    m_server = std::make_unique<FleetSimServer>(
        std::make_unique<Simulation>(std::move(*scenario), simOptions), std::move(access), serverOptions);
    const fleet::Result<quint16> listened = m_server->listen(QHostAddress::LocalHost, 0);
    if (!listened)
        qFatal("listen: %s", qPrintable(listened.error()));
    m_port = listened.value();
}

void SimHarness::startAgain()
{
    if (const fleet::Result<quint16> listened = m_server->listen(QHostAddress::LocalHost, m_port); !listened)
        qFatal("listen again: %s", qPrintable(listened.error()));
}

void SimHarness::advance(int seconds)
{
    while (seconds > 0) {
        const int step = std::min(seconds, 300);
        const Response r
            = admin(QStringLiteral("/v1/sim/advance"), QByteArray(R"({"seconds":)") + QByteArray::number(step) + '}');
        QVERIFY2(r.status == 200, r.body.constData());
        seconds -= step;
    }
}

fleet::ConnectionProfile SimHarness::profile(const QString &name, bool production) const
{
    fleet::ConnectionProfile p;
    p.name = name;
    p.url = baseUrl();
    p.production = production;
    return p;
}

QUrl SimHarness::url(const QString &pathAndQuery) const
{
    return QUrl(QStringLiteral("%1://127.0.0.1:%2%3").arg(m_scheme).arg(m_port).arg(pathAndQuery));
}

SimHarness::Response SimHarness::get(
    const QString &path, const QByteArray &token, const QList<QPair<QByteArray, QByteArray>> &headers)
{
    return send("GET", path, {}, token, headers);
}

SimHarness::Response SimHarness::post(const QString &path, const QByteArray &body, const QByteArray &token,
    const QList<QPair<QByteArray, QByteArray>> &headers)
{
    return send("POST", path, body, token, headers);
}

SimHarness::Response SimHarness::send(const QByteArray &verb, const QString &path, const QByteArray &body,
    const QByteArray &token, const QList<QPair<QByteArray, QByteArray>> &headers)
{
    QNetworkRequest request(url(path));
    request.setTransferTimeout(20000);
    if (!token.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + token);
    if (!body.isEmpty())
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    for (const auto &[key, value] : headers)
        request.setRawHeader(key, value);
    auto *buffer = new QBuffer;
    buffer->setData(body);
    QNetworkReply *reply = m_nam.sendCustomRequest(request, verb, buffer);
    buffer->setParent(reply);
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    Response r;
    r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    r.body = reply->readAll();
    r.headers = reply->rawHeaderPairs();
    if (reply->error() != QNetworkReply::NoError && r.status == 0)
        r.networkError = reply->errorString();
    reply->deleteLater();
    return r;
}
