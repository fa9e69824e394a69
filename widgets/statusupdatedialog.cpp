#include "statusupdatedialog.h"

#include "fleetsession.h"
#include "fleetstore.h"
#include "healthmonitor.h"
#include "localstore.h"
#include "statusoutbox.h"
#include "statustemplates.h"

#include <QButtonGroup>
#include <QComboBox>
#include <QDateTime>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QFrame>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QScreen>
#include <QSet>
#include <QStackedWidget>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace fleet {

using namespace status;

namespace {

QLabel *plainLabel(const QString &text = {})
{
    auto *l = new QLabel(text);
    l->setTextFormat(Qt::PlainText); // text from the page or the fleet is never rendered as markup
    l->setWordWrap(true);
    return l;
}

// The suggested status of a component for a region's verdict.
QString componentStatusFor(Verdict verdict)
{
    switch (verdict) {
    case Verdict::Down:
        return QStringLiteral("major_outage");
    case Verdict::Degraded:
        return QStringLiteral("degraded_performance");
    default:
        return {};
    }
}

// WCAG 2 contrast ratio of two colours (1 to 21).
double contrastRatio(const QColor &a, const QColor &b)
{
    const auto luminance = [](const QColor &c) {
        const auto channel = [](double v) { return v <= 0.03928 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4); };
        return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF());
    };
    const double la = luminance(a);
    const double lb = luminance(b);
    return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}

} // namespace

StatusUpdateDialog::StatusUpdateDialog(FleetSession *session, const QString &region, QWidget *parent)
    : QDialog(parent)
    , m_session(session)
    , m_region(region)
{
    setWindowTitle(tr("Status update"));
    auto *outer = new QVBoxLayout(this);
    m_steps = new QStackedWidget;
    outer->addWidget(m_steps);

    // Step 1: compose.
    auto *compose = new QWidget;
    auto *form = new QFormLayout(compose);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    m_where = plainLabel();
    form->addRow(m_where);
    m_incident = new QComboBox;
    m_incident->setAccessibleName(tr("Incident"));
    m_incident->addItem(tr("New incident"), QString());
    form->addRow(tr("&Incident:"), m_incident);
    m_name = new QLineEdit(statustemplates::load(QStringLiteral("name")));
    m_name->setMaxLength(kMaxName);
    m_nameLabel = new QLabel(tr("&Name:"));
    m_nameLabel->setBuddy(m_name);
    form->addRow(m_nameLabel, m_name);

    auto *stepperRow = new QHBoxLayout;
    m_stepper = new QButtonGroup(this);
    m_stepper->setExclusive(true);
    for (const QString &s : incidentStatuses()) {
        auto *b = new QPushButton(inWords(s));
        b->setCheckable(true);
        b->setAutoDefault(false); // Enter previews, whichever step button was last clicked
        b->setProperty("status", s);
        b->setAccessibleName(tr("Status %1").arg(inWords(s)));
        m_stepper->addButton(b);
        stepperRow->addWidget(b);
        if (s != incidentStatuses().last())
            stepperRow->addWidget(new QLabel(QStringLiteral("\u2192")));
    }
    stepperRow->addStretch();
    form->addRow(tr("Status:"), stepperRow);
    m_stepNote = plainLabel();
    form->addRow(QString(), m_stepNote);

    m_body = new QPlainTextEdit;
    m_body->setTabChangesFocus(true);
    m_body->setMinimumHeight(fontMetrics().lineSpacing() * 5);
    form->addRow(tr("&Message:"), m_body);

    m_componentTable = new QTableWidget(0, 2);
    m_componentTable->setHorizontalHeaderLabels({ tr("Component"), tr("Status") });
    m_componentTable->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_componentTable->horizontalHeader()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    m_componentTable->verticalHeader()->hide();
    m_componentTable->setSelectionMode(QAbstractItemView::NoSelection);
    m_componentTable->setMinimumHeight(fontMetrics().lineSpacing() * 9);
    form->addRow(tr("Components:"), m_componentTable);

    m_impact = new QComboBox;
    m_impact->addItem(tr("As the components say"), QString());
    for (const QString &i : impacts())
        m_impact->addItem(inWords(i), i);
    form->addRow(tr("Imp&act:"), m_impact);

    // Never pre-selected for a new incident: the engineer chooses. An update of an incident this console posted to
    // starts with the choice made for its previous update, said beside it (never a box that re-checks itself
    // silently); the preview repeats it before anything is posted.
    auto *notifyRow = new QHBoxLayout;
    m_notify = new QRadioButton(tr("Notify &subscribers"));
    m_quiet = new QRadioButton(tr("Post &without notifying"));
    notifyRow->addWidget(m_notify);
    notifyRow->addWidget(m_quiet);
    notifyRow->addStretch();
    form->addRow(tr("Subscribers:"), notifyRow);
    m_notifyNote = plainLabel();
    m_notifyNote->hide();
    form->addRow(QString(), m_notifyNote);

    // Why Preview is disabled, next to it, in the text colour: a greyed hint was about 1.4:1 against the dialog.
    m_problem = plainLabel();
    form->addRow(m_problem);
    auto *composeButtons = new QDialogButtonBox;
    m_previewButton = composeButtons->addButton(tr("&Preview…"), QDialogButtonBox::AcceptRole);
    m_previewButton->setDefault(true);
    composeButtons->addButton(QDialogButtonBox::Cancel);
    connect(composeButtons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_previewButton, &QPushButton::clicked, this, &StatusUpdateDialog::showPreview);
    form->addRow(composeButtons);
    m_steps->addWidget(compose);

    // Step 2: preview and confirm.
    auto *confirm = new QWidget;
    auto *cl = new QVBoxLayout(confirm);
    auto *card = new QFrame;
    card->setFrameShape(QFrame::StyledPanel);
    card->setAutoFillBackground(true);
    QPalette pagePalette = card->palette();
    pagePalette.setColor(QPalette::Window, QColor(0xff, 0xff, 0xff));
    pagePalette.setColor(QPalette::WindowText, QColor(0x33, 0x33, 0x33));
    card->setPalette(pagePalette);
    auto *cardLayout = new QVBoxLayout(card);
    m_previewTitle = plainLabel();
    QFont big = m_previewTitle->font();
    big.setPointSizeF(big.pointSizeF() * 1.4);
    big.setBold(true);
    m_previewTitle->setFont(big);
    m_previewStatus = plainLabel();
    QFont bold = m_previewStatus->font();
    bold.setBold(true);
    m_previewStatus->setFont(bold);
    m_previewBody = plainLabel();
    m_previewMeta = plainLabel();
    m_previewComponents = plainLabel();
    for (QLabel *l : { m_previewTitle, m_previewStatus, m_previewBody, m_previewMeta, m_previewComponents })
        l->setPalette(pagePalette);
    cardLayout->addWidget(m_previewTitle);
    cardLayout->addWidget(m_previewStatus);
    cardLayout->addWidget(m_previewBody);
    cardLayout->addWidget(m_previewMeta);
    cardLayout->addWidget(m_previewComponents);
    cardLayout->addStretch(1);
    cl->addWidget(new QLabel(tr("How it will look on the public status page:")));
    cl->addWidget(card, 1);
    m_warning = plainLabel();
    m_warning->setStyleSheet(QStringLiteral("font-weight: bold;"));
    cl->addWidget(m_warning);
    auto *confirmButtons = new QDialogButtonBox;
    auto *back = confirmButtons->addButton(tr("&Back"), QDialogButtonBox::ResetRole);
    m_publishButton = confirmButtons->addButton(tr("&Publish"), QDialogButtonBox::AcceptRole);
    confirmButtons->addButton(QDialogButtonBox::Cancel);
    connect(back, &QPushButton::clicked, this, [this] {
        m_steps->setCurrentIndex(0);
        m_previewButton->setDefault(true);
    });
    connect(m_publishButton, &QPushButton::clicked, this, &StatusUpdateDialog::publish);
    connect(confirmButtons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    cl->addWidget(confirmButtons);
    m_steps->addWidget(confirm);

    connect(m_incident, &QComboBox::currentIndexChanged, this, &StatusUpdateDialog::incidentChosen);
    connect(m_stepper, &QButtonGroup::buttonClicked, this,
        [this](QAbstractButton *b) { statusChosen(b->property("status").toString()); });
    connect(m_body, &QPlainTextEdit::textChanged, this, [this] {
        if (!m_filling)
            m_bodyEdited = true;
        updateState();
    });
    connect(m_name, &QLineEdit::textChanged, this, &StatusUpdateDialog::updateState);
    connect(m_notify, &QRadioButton::toggled, this, &StatusUpdateDialog::updateState);
    connect(m_quiet, &QRadioButton::toggled, this, &StatusUpdateDialog::updateState);

    statusChosen(QStringLiteral("investigating"));
    readPage();
    resize(fontMetrics().averageCharWidth() * 90, fontMetrics().lineSpacing() * 34);
}

void StatusUpdateDialog::readPage()
{
    StatusOutbox *outbox = m_session->statusOutbox();
    if (!outbox) {
        m_pageError = tr("The local store is not open (%1), so status updates cannot be queued safely.")
                          .arg(m_session->localStoreError());
        updateState();
        return;
    }
    if (!outbox->backend()) {
        const QString keyProblem = m_session->statusPageKeyProblem();
        m_pageError = tr("No status page is configured: %1. Set it in Edit > Settings (Ctrl+,), or start the "
                         "console with --page-id and the key in STATUSPAGE_API_KEY.")
                          .arg(keyProblem.isEmpty() ? outbox->problem() : keyProblem);
        updateState();
        return;
    }
    m_where->setText(tr("Status page %1.").arg(outbox->backend()->where()));
    auto pending = std::make_shared<int>(2);
    auto finished = [this, pending] {
        if (--*pending == 0) {
            fillComponents();
            updateState();
            Q_EMIT pageRead();
        }
    };
    outbox->backend()->components(this, [this, finished](ApiResult<QList<Component>> r) {
        if (r.ok())
            m_components = r.take();
        else
            m_pageError = tr("Could not read the page's components: %1").arg(r.error().message);
        finished();
    });
    outbox->backend()->unresolved(this, [this, finished](ApiResult<QList<Incident>> r) {
        if (r.ok()) {
            m_unresolved = r.take();
            for (const Incident &i : std::as_const(m_unresolved))
                m_incident->addItem(tr("%1 (%2)").arg(i.name, inWords(i.status)), i.id);
            // Updating the incident in progress is the usual case.
            if (!m_unresolved.isEmpty())
                m_incident->setCurrentIndex(1);
        } else {
            m_pageError = tr("Could not read the page's open incidents: %1").arg(r.error().message);
        }
        finished();
    });
}

void StatusUpdateDialog::fillComponents()
{
    m_componentTable->setRowCount(int(m_components.size()));
    const FleetStore *store = m_session->store();
    const HealthMonitor *monitor = m_session->healthMonitor();
    bool anyTrouble = false;
    for (int row = 0; row < m_components.size(); ++row) {
        const Component &c = m_components[row];
        auto *name = new QTableWidgetItem(c.name);
        name->setFlags(Qt::ItemIsEnabled);
        name->setToolTip(tr("Now: %1").arg(inWords(c.status)));
        m_componentTable->setItem(row, 0, name);
        auto *combo = new QComboBox;
        combo->addItem(tr("No change (%1)").arg(inWords(c.status)), QString());
        for (const QString &s : componentStatuses())
            combo->addItem(inWords(s), s);
        combo->setAccessibleName(tr("Status of %1").arg(c.name));
        // A component named after a region in trouble gets the status its verdict suggests; one whose region is
        // healthy again, while the page still shows it impaired, goes back to operational (at Monitoring, say).
        for (const Region &r : store->regions()) {
            if (!c.name.contains(r.id, Qt::CaseInsensitive))
                continue;
            const Verdict verdict = monitor->verdict(r.id);
            QString suggested = componentStatusFor(verdict);
            anyTrouble = anyTrouble || !suggested.isEmpty();
            if (suggested.isEmpty() && verdict == Verdict::Healthy && c.status != QLatin1String("operational")
                && c.status != QLatin1String("under_maintenance"))
                suggested = QStringLiteral("operational");
            if (!suggested.isEmpty())
                combo->setCurrentIndex(combo->findData(suggested));
        }
        m_componentTable->setCellWidget(row, 1, combo);
        connect(combo, &QComboBox::currentIndexChanged, this, &StatusUpdateDialog::updateState);
    }
    // The service customers know (the seed: "Application Builder") is partially out while a region is in trouble,
    // and operational again once none is.
    for (int row = 0; row < m_components.size(); ++row) {
        const Component &c = m_components[row];
        if (!c.name.contains(QLatin1String("Builder"), Qt::CaseInsensitive)
            || c.name.startsWith(QLatin1String("Builders ")))
            continue;
        auto *combo = qobject_cast<QComboBox *>(m_componentTable->cellWidget(row, 1));
        if (anyTrouble && isNewIncident())
            combo->setCurrentIndex(combo->findData(QStringLiteral("partial_outage")));
        else if (!anyTrouble && !isNewIncident() && c.status != QLatin1String("operational")
            && c.status != QLatin1String("under_maintenance"))
            combo->setCurrentIndex(combo->findData(QStringLiteral("operational")));
    }
    // Every component in view where the screen allows (at 1920x1080 the composer showed 3 1/2 of 9 rows, the
    // affected one cut in half): the table as tall as its rows, up to half the screen; the dialog grown to fit.
    // The status column as wide as its widest choice ("No change (Degraded performance)"): the cell widgets'
    // widths are not what ResizeToContents measures.
    int statusWidth = 0;
    for (int row = 0; row < m_componentTable->rowCount(); ++row) {
        if (const QWidget *combo = m_componentTable->cellWidget(row, 1))
            statusWidth = std::max(statusWidth, combo->sizeHint().width());
    }
    m_componentTable->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Fixed);
    m_componentTable->setColumnWidth(1, statusWidth);
    int rowsHeight = m_componentTable->horizontalHeader()->height() + 2 * m_componentTable->frameWidth();
    for (int row = 0; row < m_componentTable->rowCount(); ++row)
        rowsHeight += m_componentTable->rowHeight(row);
    const int available = screen() ? screen()->availableGeometry().height() : 768;
    m_componentTable->setMinimumHeight(std::max(fontMetrics().lineSpacing() * 9, std::min(rowsHeight, available / 2)));
    if (height() < sizeHint().height())
        resize(width(), std::min(sizeHint().height(), available - 40));
}

bool StatusUpdateDialog::isNewIncident() const
{
    return m_incident->currentData().toString().isEmpty();
}

QString StatusUpdateDialog::status() const
{
    QAbstractButton *b = m_stepper->checkedButton();
    return b ? b->property("status").toString() : QString();
}

std::optional<bool> StatusUpdateDialog::earlierNotifyChoice(const QString &incident) const
{
    const StatusOutbox *outbox = m_session->statusOutbox();
    return outbox ? outbox->notifyChoiceFor(incident) : std::nullopt;
}

void StatusUpdateDialog::setNotifyChoice(std::optional<bool> notify)
{
    // Radio buttons of one group cannot be unchecked while exclusive.
    m_notify->setAutoExclusive(false);
    m_quiet->setAutoExclusive(false);
    m_notify->setChecked(notify.value_or(false));
    m_quiet->setChecked(notify.has_value() && !*notify);
    m_notify->setAutoExclusive(true);
    m_quiet->setAutoExclusive(true);
    m_notifyNote->setText(!notify ? QString()
            : *notify             ? tr("As for this incident's previous update: subscribers are notified.")
                                  : tr("As for this incident's previous update: subscribers are not notified."));
    m_notifyNote->setVisible(notify.has_value());
}

void StatusUpdateDialog::incidentChosen()
{
    const bool isNew = isNewIncident();
    m_name->setVisible(isNew);
    m_nameLabel->setVisible(isNew);
    setNotifyChoice(isNew ? std::nullopt : earlierNotifyChoice(m_incident->currentData().toString()));
    if (isNew) {
        statusChosen(QStringLiteral("investigating"));
        return;
    }
    // The next step of the lifecycle after what the page says now.
    const QString id = m_incident->currentData().toString();
    for (const Incident &i : std::as_const(m_unresolved)) {
        if (i.id != id)
            continue;
        const int at = int(incidentStatuses().indexOf(i.status));
        statusChosen(incidentStatuses().value(std::clamp(at + 1, 0, int(incidentStatuses().size()) - 1)));
    }
}

void StatusUpdateDialog::statusChosen(const QString &s)
{
    // The step about to be posted stands out: in the highlight colours and bold (a checked button's own shading
    // was about 1.1:1 against the others), so it is seen before the preview.
    for (QAbstractButton *b : m_stepper->buttons()) {
        const bool chosen = b->property("status").toString() == s;
        b->setChecked(chosen);
        QPalette p = palette();
        if (chosen) {
            // Darkened until its text meets WCAG AA (4.5:1) against it.
            QColor back = p.color(QPalette::Highlight);
            const QColor text = p.color(QPalette::HighlightedText);
            for (int i = 0; i < 8 && contrastRatio(back, text) < 4.5; ++i)
                back = back.darker(112);
            p.setColor(QPalette::Button, back);
            p.setColor(QPalette::ButtonText, text);
        }
        b->setPalette(p);
        QFont f = font();
        f.setBold(chosen);
        b->setFont(f);
    }
    if (!m_bodyEdited) {
        m_filling = true;
        m_body->setPlainText(statustemplates::fill(statustemplates::load(s), statustemplates::fromSession(*m_session)));
        m_filling = false;
    }
    updateState();
}

status::IncidentChange StatusUpdateDialog::change() const
{
    IncidentChange c;
    if (isNewIncident())
        c.name = m_name->text().trimmed();
    c.status = status();
    c.body = m_body->toPlainText().trimmed();
    c.impactOverride = m_impact->currentData().toString();
    c.deliverNotifications = m_notify->isChecked();
    for (int row = 0; row < m_components.size(); ++row) {
        const auto *combo = qobject_cast<QComboBox *>(m_componentTable->cellWidget(row, 1));
        if (combo && !combo->currentData().toString().isEmpty())
            c.components.insert(m_components[row].id, combo->currentData().toString());
    }
    return c;
}

QString StatusUpdateDialog::problem() const
{
    if (!m_pageError.isEmpty())
        return m_pageError;
    if (const QString p = change().problem(isNewIncident()); !p.isEmpty())
        return tr("Cannot post yet: %1.").arg(p);
    if (m_body->toPlainText().trimmed().isEmpty())
        return tr("Write what customers should read.");
    if (!m_notify->isChecked() && !m_quiet->isChecked())
        return tr("Choose whether subscribers are notified.");
    return {};
}

void StatusUpdateDialog::updateState()
{
    const QString current = [this] {
        for (const Incident &i : std::as_const(m_unresolved))
            if (i.id == m_incident->currentData().toString())
                return i.status;
        return QString();
    }();
    m_stepNote->setText(!current.isEmpty() && current == status()
            ? tr("Update: the status stays %1.").arg(inWords(current))
            : current.isEmpty() ? QString()
                                : tr("The page says %1 now.").arg(inWords(current)));
    const QString why = problem();
    m_problem->setText(why);
    m_previewButton->setEnabled(why.isEmpty());
    m_previewButton->setToolTip(why.isEmpty() ? tr("See the update as the public page will show it") : why);
}

QString StatusUpdateDialog::previewTitle() const
{
    if (isNewIncident())
        return m_name->text().trimmed();
    // The incident's name as the page shows it: the list's "(Investigating)" is the status before this update.
    for (const Incident &i : std::as_const(m_unresolved)) {
        if (i.id == m_incident->currentData().toString())
            return i.name;
    }
    return m_incident->currentText();
}

QString StatusUpdateDialog::previewBody() const
{
    return m_body->toPlainText().trimmed();
}

bool StatusUpdateDialog::onConfirmStep() const
{
    return m_steps->currentIndex() == 1;
}

void StatusUpdateDialog::showPreview()
{
    if (!problem().isEmpty())
        return;
    const IncidentChange c = change();
    m_previewTitle->setText(previewTitle());
    m_previewStatus->setText(inWords(c.status));
    m_previewBody->setText(c.body);
    // The fleet's clock (a simulated fleet runs in its own time), as the page will stamp it.
    const qint64 now
        = m_session->store()->fleetNowMs() > 0 ? m_session->store()->fleetNowMs() : QDateTime::currentMSecsSinceEpoch();
    m_previewMeta->setText(
        tr("Posted %1 UTC")
            .arg(QDateTime::fromMSecsSinceEpoch(now, Qt::UTC).toString(QStringLiteral("MMM d, yyyy - HH:mm"))));
    QStringList affected;
    for (const Component &comp : std::as_const(m_components))
        if (c.components.contains(comp.id))
            affected << tr("%1: %2").arg(comp.name, inWords(c.components.value(comp.id)));
    m_previewComponents->setText(affected.isEmpty()
            ? tr("No component changes.")
            : tr("This incident affects: %1.").arg(affected.join(QLatin1String("; "))));
    const StatusOutbox *outbox = m_session->statusOutbox();
    m_warning->setText(
        tr("This is posted publicly on the status page (%1)%2. It cannot be unsent: a correction is "
           "another update.")
            .arg(outbox->backend() ? outbox->backend()->where() : outbox->problem(),
                c.deliverNotifications ? tr(" and sent to every subscriber") : tr(", without notifying subscribers")));
    m_steps->setCurrentIndex(1);
    m_publishButton->setDefault(true);
    m_publishButton->setFocus();
}

void StatusUpdateDialog::publish()
{
    StatusOutbox *outbox = m_session->statusOutbox();
    const IncidentChange c = change();
    Result<qint64> r = isNewIncident()          ? outbox->open(c)
        : c.status == QLatin1String("resolved") ? outbox->resolve(m_incident->currentData().toString(), c)
                                                : outbox->update(m_incident->currentData().toString(), c);
    if (!r.ok()) {
        m_warning->setText(r.error());
        return;
    }
    m_queued = *r;
    // Said to the engineer once it is on disk (a moment later, on the store's thread): a console that stops now
    // still sends it.
    m_publishButton->setEnabled(false);
    const QString title = previewTitle();
    m_session->localStore()->whenWritten(this, [this, title](const Status &written) {
        Q_EMIT queued(written ? tr("Status update queued: %1").arg(title)
                              : tr("Status update kept in memory, not yet on disk (%1); it is sent once the local "
                                   "store has it: %2")
                                    .arg(written.error(), title));
        accept();
    });
}

} // namespace fleet
