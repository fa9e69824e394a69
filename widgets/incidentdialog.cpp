#include "incidentdialog.h"

#include "fleetsession.h"
#include "fleetstore.h"
#include "healthmonitor.h"
#include "localstore.h"
#include "statusoutbox.h"

#include <QComboBox>
#include <QDateTime>
#include <QDialogButtonBox>
#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSaveFile>
#include <QScreen>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>

namespace fleet {

using namespace status;

IncidentDialog::IncidentDialog(FleetSession *session, QWidget *parent)
    : QDialog(parent)
    , m_session(session)
{
    setWindowTitle(tr("Incident timeline and postmortem"));
    auto *layout = new QVBoxLayout(this);
    auto *top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Incident:")));
    m_incident = new QComboBox;
    m_incident->setAccessibleName(tr("Incident"));
    m_incident->addItem(tr("Everything this console saw (no incident on the page)"), QString());
    top->addWidget(m_incident, 1);
    layout->addLayout(top);
    // The incident's figures, stamped from the fleet's telemetry and this console's records (issue #24).
    m_figures = new QLabel;
    m_figures->setTextFormat(Qt::PlainText);
    m_figures->setWordWrap(true);
    m_figures->setAccessibleName(tr("Time to detect, acknowledge and mitigate"));
    m_figures->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont bold = m_figures->font();
    bold.setBold(true);
    m_figures->setFont(bold);
    layout->addWidget(m_figures);

    auto *tabs = new QTabWidget;
    m_tabs = tabs;
    auto *timeline = new QWidget;
    auto *tl = new QVBoxLayout(timeline);
    m_table = new QTableWidget(0, 3);
    m_table->setHorizontalHeaderLabels({ tr("Time (UTC)"), tr("What"), tr("Detail") });
    m_table->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(2, QHeaderView::Stretch);
    m_table->verticalHeader()->hide();
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setWordWrap(true);
    tl->addWidget(m_table);
    auto *exports = new QHBoxLayout;
    auto *md = new QPushButton(tr("Export &Markdown…"));
    auto *json = new QPushButton(tr("Export &JSON…"));
    exports->addWidget(md);
    exports->addWidget(json);
    exports->addStretch();
    tl->addLayout(exports);
    tabs->addTab(timeline, tr("&Timeline"));

    auto *postmortem = new QWidget;
    auto *pl = new QVBoxLayout(postmortem);
    pl->addWidget(new QLabel(tr("Generated from the timeline; edit it before it is sent. Markdown.")));
    m_draft = new QPlainTextEdit;
    pl->addWidget(m_draft, 1);
    auto *pmButtons = new QHBoxLayout;
    auto *regenerate = new QPushButton(tr("&Regenerate"));
    auto *sendDraft = new QPushButton(tr("Send as &draft"));
    auto *publish = new QPushButton(tr("P&ublish…"));
    pmButtons->addWidget(regenerate);
    pmButtons->addStretch();
    pmButtons->addWidget(sendDraft);
    pmButtons->addWidget(publish);
    pl->addLayout(pmButtons);
    tabs->addTab(postmortem, tr("&Postmortem draft"));
    layout->addWidget(tabs, 1);

    m_message = new QLabel;
    m_message->setTextFormat(Qt::PlainText);
    m_message->setWordWrap(true);
    layout->addWidget(m_message);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);

    connect(m_incident, &QComboBox::currentIndexChanged, this, &IncidentDialog::showIncident);
    connect(md, &QPushButton::clicked, this, [this] { exportAs(false); });
    connect(json, &QPushButton::clicked, this, [this] { exportAs(true); });
    connect(regenerate, &QPushButton::clicked, this, [this] {
        const int i = m_incident->currentIndex() - 1;
        m_draft->setPlainText(IncidentTimeline::postmortemDraft(m_entries, i >= 0 ? m_incidents[i] : Incident {}));
    });
    connect(sendDraft, &QPushButton::clicked, this, [this] { queuePostmortem(false); });
    connect(publish, &QPushButton::clicked, this, [this] { queuePostmortem(true); });

    showIncident();
    readIncidents();
    resize(fontMetrics().averageCharWidth() * 110, fontMetrics().lineSpacing() * 36);
}

QString IncidentDialog::draft() const
{
    return m_draft->toPlainText();
}

void IncidentDialog::showPostmortem()
{
    m_tabs->setCurrentIndex(1);
}

QString IncidentDialog::message() const
{
    return m_message->text();
}

void IncidentDialog::readIncidents()
{
    const StatusOutbox *outbox = m_session->statusOutbox();
    if (!outbox || !outbox->backend()) {
        m_message->setText(tr("No status page is configured: the timeline shows what this console saw; a postmortem "
                              "cannot be sent."));
        Q_EMIT incidentsRead();
        return;
    }
    outbox->backend()->incidents({}, 25, this, [this](ApiResult<QList<Incident>> r) {
        if (!r.ok()) {
            m_message->setText(tr("Could not read the page's incidents: %1").arg(r.error().message));
        } else {
            m_incidents = r.take();
            for (const Incident &i : std::as_const(m_incidents))
                m_incident->addItem(tr("%1 (%2, %3 UTC)")
                                        .arg(i.name, inWords(i.status),
                                            QDateTime::fromMSecsSinceEpoch(i.createdAt, Qt::UTC)
                                                .toString(QStringLiteral("MMM d HH:mm"))),
                    i.id);
            if (!m_incidents.isEmpty())
                m_incident->setCurrentIndex(1); // the newest
        }
        Q_EMIT incidentsRead();
    });
}

void IncidentDialog::showIncident()
{
    const int i = m_incident->currentIndex() - 1;
    const Incident incident = i >= 0 && i < m_incidents.size() ? m_incidents[i] : Incident {};
    // From two hours before the incident was opened: the trouble usually starts before the first post.
    const qint64 from = incident.createdAt > 0 ? incident.createdAt - 2 * 3600 * 1000 : 0;
    m_entries = m_session->timeline()->entries(incident, from);
    m_metrics = measureIncident(m_entries, m_session->store()->history(), m_session->healthMonitor()->thresholds());
    m_entries += m_metrics.milestones();
    std::stable_sort(m_entries.begin(), m_entries.end(),
        [](const IncidentTimeline::Entry &a, const IncidentTimeline::Entry &b) { return a.atMs < b.atMs; });
    m_figures->setText(figuresText());
    m_table->setRowCount(int(m_entries.size()));
    for (int row = 0; row < m_entries.size(); ++row) {
        const auto &e = m_entries[row];
        using Kind = IncidentTimeline::Entry::Kind;
        const QString what = e.kind == Kind::Verdict ? tr("Verdict")
            : e.kind == Kind::Operation              ? tr("Operation")
            : e.kind == Kind::StatusUpdate           ? tr("Status page")
            : e.kind == Kind::Alert                  ? tr("Alert")
            : e.kind == Kind::Silence                ? tr("Silence")
                                                     : tr("Figure");
        m_table->setItem(row, 0,
            new QTableWidgetItem(
                QDateTime::fromMSecsSinceEpoch(e.atMs, Qt::UTC).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"))));
        m_table->setItem(row, 1, new QTableWidgetItem(what));
        auto *detail = new QTableWidgetItem(e.text); // an item's text is never rendered as markup
        detail->setToolTip(
            QStringLiteral("<p>") + e.text.toHtmlEscaped() + QStringLiteral("</p>")); // text, even in a tooltip
        m_table->setItem(row, 2, detail);
    }
    m_table->resizeRowsToContents();
    m_draft->setPlainText(IncidentTimeline::postmortemDraft(m_entries, incident));
    fitToContent();
}

QString IncidentDialog::figuresText() const
{
    return m_metrics.isEmpty() ? tr("Time to detect, acknowledge, mitigate: no region was in trouble in this window.")
                               : tr("Time to detect, acknowledge, mitigate. %1").arg(m_metrics.summary());
}

void IncidentDialog::fitToContent()
{
    // Tall enough for every row of the timeline, up to most of the screen (it scrolls beyond): at 1920x1080 a
    // fixed size showed 11 rows of the seed's 25.
    const QScreen *s = screen();
    if (!s)
        return;
    const int rows
        = m_table->verticalHeader()->length() + m_table->horizontalHeader()->height() + 2 * m_table->frameWidth();
    const int chrome = height() - m_table->height(); // everything around the table, as laid out now
    const int want = std::min(int(s->availableGeometry().height() * 0.85), rows + chrome);
    if (want > height())
        resize(width(), want);
}

void IncidentDialog::exportAs(bool json)
{
    const QString title = m_incident->currentText();
    const QString path
        = QFileDialog::getSaveFileName(this, json ? tr("Export timeline as JSON") : tr("Export timeline as Markdown"),
            json ? QStringLiteral("incident-timeline.json") : QStringLiteral("incident-timeline.md"),
            json ? tr("JSON (*.json)") : tr("Markdown (*.md)"));
    if (path.isEmpty())
        return;
    QSaveFile f(path);
    const QByteArray data
        = json ? IncidentTimeline::toJson(m_entries, title) : IncidentTimeline::toMarkdown(m_entries, title).toUtf8();
    if (!f.open(QIODevice::WriteOnly) || f.write(data) != data.size() || !f.commit()) {
        m_message->setText(tr("Could not write %1: %2. Nothing else was changed.").arg(path, f.errorString()));
        return;
    }
    m_message->setText(tr("Wrote %1.").arg(path));
}

void IncidentDialog::queuePostmortem(bool publish)
{
    StatusOutbox *outbox = m_session->statusOutbox();
    const QString id = m_incident->currentData().toString();
    if (!outbox || !outbox->backend() || id.isEmpty()) {
        m_message->setText(tr("Choose an incident of the status page first (a postmortem belongs to one)."));
        return;
    }
    bool notify = false;
    if (publish) {
        QMessageBox ask(QMessageBox::Warning, tr("Publish the postmortem"),
            tr("The postmortem is published on the public status page. It cannot be unpublished from here."),
            QMessageBox::Cancel, this);
        auto *withMail = ask.addButton(tr("Publish and notify subscribers"), QMessageBox::AcceptRole);
        auto *quiet = ask.addButton(tr("Publish without notifying"), QMessageBox::AcceptRole);
        ask.exec();
        if (ask.clickedButton() != withMail && ask.clickedButton() != quiet)
            return;
        notify = ask.clickedButton() == withMail;
    }
    auto r = outbox->putPostmortem(id, m_draft->toPlainText());
    if (r.ok() && publish)
        r = outbox->publishPostmortem(id, notify);
    if (!r.ok()) {
        m_message->setText(r.error());
        return;
    }
    const QString done = publish ? tr("Postmortem queued for publishing.") : tr("Postmortem draft queued.");
    m_message->setText(tr("Saving…"));
    m_session->localStore()->whenWritten(this, [this, done](const Status &written) {
        m_message->setText(written ? done
                                   : tr("%1 Kept in memory, not yet on disk (%2); sent once the local store has it.")
                                         .arg(done, written.error()));
        Q_EMIT queued(m_message->text());
    });
}

} // namespace fleet
