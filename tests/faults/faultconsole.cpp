// fault-console: the real console (FleetSession, its local store and outbox, the ConsoleWindow drawn offscreen) with
// a lag probe on its GUI thread, driven line by line on stdin and reporting JSON lines on stdout, so that the fault
// suite can run it inside a network namespace under packet loss, kill it with SIGKILL mid-action and start it again
// on the same local store. Not installed; tests/faults/console-faults.sh drives it.
//
//   fault-console --api URL --data DIR [--page-url URL --page-id ID]    (token: FLEET_TOKEN; key: STATUSPAGE_API_KEY)
//
// Commands (one per line):
//   provision REGION COUNT ARCH REASON...   perform a provision through the ActionController
//   open NAME...                            queue an incident ("investigating") in the status outbox
//   update INCIDENT_KEY STATUS BODY...      queue an update of that incident
//   journal                                 print the local audit log: one "journal" report per entry, oldest first
//   age N                                   add N past entries to the local audit log, as months of use would
//   lag                                     print the lag probe's figures since the last `lag`, then start again
//   quit
// Reports: {"kind":"ready"}, "state", "action", "queued", "outbox", "delivered", "outbox_failed", "lag", "error".

#include "actioncontroller.h"
#include "consolewindow.h"
#include "fleetsession.h"
#include "lagprobe.h"
#include "localstore.h"
#include "statusoutbox.h"
#include "tokensource.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDateTime>
#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMetaEnum>
#include <QSettings>
#include <QSocketNotifier>

#include <cstdio>
#include <unistd.h>

using namespace fleet;

namespace {

QElapsedTimer g_clock;

void report(QJsonObject o)
{
    o.insert(QStringLiteral("t_ms"), g_clock.elapsed());
    const QByteArray line = QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n';
    std::fwrite(line.constData(), 1, size_t(line.size()), stdout);
    std::fflush(stdout);
}

void error(const QString &what)
{
    report({ { QStringLiteral("kind"), QStringLiteral("error") }, { QStringLiteral("message"), what } });
}

QString incidentKeyOf(StatusOutbox *outbox, qint64 entryId)
{
    const QList<LocalStore::OutboxEntry> entries = outbox->entries();
    for (const LocalStore::OutboxEntry &e : entries)
        if (e.id == entryId)
            return statuspage::IncidentChange::fromValue(
                QJsonDocument::fromJson(e.payload).object().value(QLatin1String("change")).toObject())
                .incidentKey;
    return {};
}

class Driver : public QObject
{
public:
    Driver(FleetSession *session, LagProbe *probe)
        : m_session(session)
        , m_probe(probe)
        , m_stdin(STDIN_FILENO, QSocketNotifier::Read)
    {
        connect(&m_stdin, &QSocketNotifier::activated, this, &Driver::readStdin);
        connect(session, &FleetSession::statusChanged, this, [](const ConnectionStatus &s) {
            report(
                { { QStringLiteral("kind"), QStringLiteral("state") }, { QStringLiteral("state"), wireName(s.state) },
                    { QStringLiteral("reason"), s.reason }, { QStringLiteral("attempt"), s.attempt } });
        });
        connect(session->actions(), &ActionController::trackedChanged, this, [](const ActionController::Tracked &t) {
            report({ { QStringLiteral("kind"), QStringLiteral("action") }, { QStringLiteral("handle"), t.handle },
                { QStringLiteral("journal"), t.journalId },
                { QStringLiteral("phase"),
                    QString::fromLatin1(QMetaEnum::fromType<ActionController::Phase>().valueToKey(int(t.phase)))
                        .toLower() },
                { QStringLiteral("operation"), t.operationId }, { QStringLiteral("message"), t.message },
                { QStringLiteral("reason"), t.action.reason } });
        });
        StatusOutbox *outbox = session->statusOutbox();
        connect(outbox, &StatusOutbox::changed, this, [outbox] {
            report({ { QStringLiteral("kind"), QStringLiteral("outbox") },
                { QStringLiteral("pending"), outbox->pendingCount() },
                { QStringLiteral("summary"), outbox->summary() } });
        });
        connect(outbox, &StatusOutbox::delivered, this,
            [](const LocalStore::OutboxEntry &e, const statuspage::Incident &incident) {
                report({ { QStringLiteral("kind"), QStringLiteral("delivered") }, { QStringLiteral("entry"), e.id },
                    { QStringLiteral("incident"), incident.id }, { QStringLiteral("status"), incident.status },
                    { QStringLiteral("attempts"), e.attempts } });
            });
        connect(outbox, &StatusOutbox::failed, this, [](const LocalStore::OutboxEntry &e) {
            report({ { QStringLiteral("kind"), QStringLiteral("outbox_failed") }, { QStringLiteral("entry"), e.id },
                { QStringLiteral("why"), e.lastError } });
        });
    }

private:
    void readStdin()
    {
        char buf[4096];
        const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
        if (n <= 0) { // the driver's end closed: as `quit`
            m_stdin.setEnabled(false);
            QApplication::quit();
            return;
        }
        m_pending.append(buf, int(n));
        for (qsizetype nl = m_pending.indexOf('\n'); nl >= 0; nl = m_pending.indexOf('\n')) {
            const QString line = QString::fromUtf8(m_pending.left(nl)).trimmed();
            m_pending.remove(0, nl + 1);
            if (!line.isEmpty())
                run(line);
        }
    }

    void run(const QString &line)
    {
        const QStringList w = line.split(QLatin1Char(' '), Qt::SkipEmptyParts);
        const QString verb = w.value(0);
        StatusOutbox *outbox = m_session->statusOutbox();
        if (verb == QLatin1String("provision") && w.size() >= 5) {
            const auto arch = archFromString(w[3]);
            if (!arch)
                return error(QStringLiteral("unknown architecture %1").arg(w[3]));
            const int handle = m_session->actions()->perform(
                FleetAction::provision(w[1], w[2].toInt(), *arch, w.mid(4).join(QLatin1Char(' '))));
            report({ { QStringLiteral("kind"), QStringLiteral("performed") }, { QStringLiteral("handle"), handle } });
        } else if (verb == QLatin1String("open") && w.size() >= 2) {
            statuspage::IncidentChange c;
            c.name = w.mid(1).join(QLatin1Char(' '));
            c.status = QStringLiteral("investigating");
            c.body = QStringLiteral("We are investigating failed builds.");
            c.deliverNotifications = false;
            const Result<qint64> id = outbox->open(c);
            if (!id)
                return error(id.error());
            report({ { QStringLiteral("kind"), QStringLiteral("queued") }, { QStringLiteral("entry"), *id },
                { QStringLiteral("incident_key"), incidentKeyOf(outbox, *id) } });
        } else if (verb == QLatin1String("update") && w.size() >= 4) {
            statuspage::IncidentChange c;
            c.status = w[2];
            c.body = w.mid(3).join(QLatin1Char(' '));
            c.deliverNotifications = false;
            const Result<qint64> id = outbox->update(w[1], c);
            if (!id)
                return error(id.error());
            report({ { QStringLiteral("kind"), QStringLiteral("queued") }, { QStringLiteral("entry"), *id } });
        } else if (verb == QLatin1String("journal")) {
            const auto journal = m_session->localStore()->journal();
            if (!journal)
                return error(journal.error());
            for (const LocalStore::JournalEntry &e : *journal)
                report({ { QStringLiteral("kind"), QStringLiteral("journal") }, { QStringLiteral("id"), e.id },
                    { QStringLiteral("entry"), e.kind }, { QStringLiteral("summary"), e.summary },
                    { QStringLiteral("outcome"), e.outcome } });
            report({ { QStringLiteral("kind"), QStringLiteral("journal_end") },
                { QStringLiteral("entries"), journal->size() } });
        } else if (verb == QLatin1String("age") && w.size() == 2) {
            for (int i = 0, n = w[1].toInt(); i < n; ++i) {
                LocalStore::JournalEntry e;
                e.atMs = QDateTime::currentMSecsSinceEpoch() - qint64(n - i) * 3600000;
                e.kind = QStringLiteral("status_update");
                e.actor = QStringLiteral("earlier on-call engineer");
                e.summary = QStringLiteral("update \"Builder partially degraded service\" (Monitoring) %1").arg(i);
                e.outcome = QStringLiteral("succeeded: delivered as inc%1 after 1 attempt(s)").arg(i);
                if (const auto id = m_session->localStore()->appendJournal(e); !id)
                    return error(id.error());
            }
            report({ { QStringLiteral("kind"), QStringLiteral("aged") } });
        } else if (verb == QLatin1String("lag")) {
            QJsonObject o = QJsonDocument::fromJson(LagProbe::toJson(m_probe->figures())).object();
            o.insert(QStringLiteral("kind"), QStringLiteral("lag"));
            report(o);
            m_probe->reset();
        } else if (verb == QLatin1String("quit")) {
            QApplication::quit();
        } else {
            error(QStringLiteral("unknown command: %1").arg(line));
        }
    }

    FleetSession *m_session;
    LagProbe *m_probe;
    QSocketNotifier m_stdin;
    QByteArray m_pending;
};

} // namespace

int main(int argc, char **argv)
{
    g_clock.start();
    qputenv("TZ", "UTC");
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QCommandLineParser parser;
    const QCommandLineOption apiOpt(QStringLiteral("api"), QStringLiteral("Fleet API URL."), QStringLiteral("url"));
    const QCommandLineOption dataOpt(
        QStringLiteral("data"), QStringLiteral("Folder of the local store and settings."), QStringLiteral("dir"));
    const QCommandLineOption pageUrlOpt(
        QStringLiteral("page-url"), QStringLiteral("Status page API base URL."), QStringLiteral("url"));
    const QCommandLineOption pageIdOpt(
        QStringLiteral("page-id"), QStringLiteral("Status page id."), QStringLiteral("id"));
    parser.addOptions({ apiOpt, dataOpt, pageUrlOpt, pageIdOpt });
    parser.addHelpOption();
    parser.process(app);
    if (!parser.isSet(apiOpt) || !parser.isSet(dataOpt)) {
        std::fputs("fault-console: --api and --data are required\n", stderr);
        return 2;
    }
    const QDir data(parser.value(dataOpt));
    QSettings settings(data.filePath(QStringLiteral("console.ini")), QSettings::IniFormat);
    LagProbe probe; // first, so that it measures everything after
    FleetSession session;
    if (const Status local = session.openLocalStore(data.filePath(QStringLiteral("store.sqlite"))); !local) {
        std::fprintf(stderr, "fault-console: %s\n", qPrintable(local.error()));
        return 2;
    }
    ConsoleWindow window(&session, &settings);
    window.setDesktopPresence(false);
    window.resize(1366, 768);
    window.show();
    Driver driver(&session, &probe);

    ConnectionProfile profile;
    profile.name = QStringLiteral("faults");
    profile.url = QUrl(parser.value(apiOpt));
    const Result<QString> token = tokens::fromEnvironment();
    if (!token) {
        std::fprintf(stderr, "fault-console: %s\n", qPrintable(token.error()));
        return 2;
    }
    window.connectTo(profile, token.value());
    if (parser.isSet(pageIdOpt)) {
        StatusPageConfig page;
        page.baseUrl = QUrl(parser.value(pageUrlOpt));
        page.pageId = parser.value(pageIdOpt);
        page.apiKey = qEnvironmentVariable("STATUSPAGE_API_KEY");
        if (const QString problem = page.problem(); !problem.isEmpty()) {
            std::fprintf(stderr, "fault-console: %s\n", qPrintable(problem));
            return 2;
        }
        session.setStatusPage(page);
    }
    report({ { QStringLiteral("kind"), QStringLiteral("ready") } });
    return QApplication::exec();
}
