#include "shortcutseditor.h"

#include "actionregistry.h"

#include <QAction>
#include <QDialogButtonBox>
#include <QHeaderView>
#include <QKeySequenceEdit>
#include <QLabel>
#include <QPushButton>
#include <QSettings>
#include <QTableWidget>
#include <QVBoxLayout>

namespace fleet {

ShortcutsEditor::ShortcutsEditor(ActionRegistry *registry, QSettings *settings, QWidget *parent)
    : QDialog(parent)
    , m_registry(registry)
    , m_settings(settings)
    , m_table(new QTableWidget(this))
    , m_problem(new QLabel(this))
{
    setWindowTitle(tr("Customize shortcuts"));
    auto *intro = new QLabel(tr("Click a shortcut and press the keys you want; Backspace clears it. A key another "
                                "command has is refused."),
        this);
    intro->setWordWrap(true);
    const QStringList ids = registry->ids();
    m_table->setColumnCount(3);
    m_table->setHorizontalHeaderLabels({ tr("Command"), tr("Shortcut"), QString() });
    m_table->setRowCount(int(ids.size()));
    m_table->verticalHeader()->hide();
    m_table->setSelectionMode(QAbstractItemView::NoSelection);
    int row = 0;
    for (const QString &id : ids) {
        const ActionSpec *spec = registry->spec(id);
        QAction *a = registry->action(id);
        auto *name = new QTableWidgetItem(QString(spec->text).remove(u'&'));
        name->setFlags(Qt::ItemIsEnabled);
        name->setToolTip(spec->help);
        m_table->setItem(row, 0, name);
        auto *edit = new QKeySequenceEdit(a ? a->shortcut() : QKeySequence(), m_table);
        edit->setObjectName(id);
        edit->setAccessibleName(tr("Shortcut of %1").arg(name->text()));
        m_table->setCellWidget(row, 1, edit);
        m_edits.insert(id, edit);
        m_shown.insert(id, edit->keySequence());
        auto *reset = new QPushButton(tr("Default"), m_table);
        reset->setToolTip(spec->shortcuts.isEmpty()
                ? tr("No shortcut by default")
                : tr("Back to %1").arg(spec->shortcuts.front().toString(QKeySequence::NativeText)));
        connect(reset, &QPushButton::clicked, this, [edit, spec] {
            edit->setKeySequence(spec->shortcuts.isEmpty() ? QKeySequence() : spec->shortcuts.front());
        });
        m_table->setCellWidget(row, 2, reset);
        ++row;
    }
    m_table->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_table->horizontalHeader()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(2, QHeaderView::ResizeToContents);
    m_problem->setWordWrap(true);
    m_problem->setTextFormat(Qt::PlainText);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, &ShortcutsEditor::save);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addWidget(m_table, 1);
    layout->addWidget(m_problem);
    layout->addWidget(buttons);
    resize(620, 560);
}

QString ShortcutsEditor::problem() const
{
    return m_problem->text();
}

void ShortcutsEditor::save()
{
    // Two rows given the same key in this dialog: neither is saved.
    QHash<QKeySequence, QString> chosen;
    for (auto it = m_edits.cbegin(); it != m_edits.cend(); ++it) {
        const QKeySequence k = it.value()->keySequence();
        if (k.isEmpty())
            continue;
        if (chosen.contains(k)) {
            const auto name = [this](const QString &id) { return QString(m_registry->spec(id)->text).remove(u'&'); };
            m_problem->setText(tr("%1 is chosen for two commands: “%2” and “%3”.")
                                   .arg(k.toString(QKeySequence::NativeText), name(chosen.value(k)), name(it.key())));
            return;
        }
        chosen.insert(k, it.key());
    }
    // Cleared first, then set: a key moved from one command to another is free by the time it is given.
    QStringList changed;
    for (auto it = m_edits.cbegin(); it != m_edits.cend(); ++it)
        if (it.value()->keySequence() != m_shown.value(it.key()))
            changed << it.key();
    // A key kept by a command this dialog does not change (a second shortcut of it, say): refused before anything.
    for (const QString &id : std::as_const(changed)) {
        const QKeySequence k = m_edits.value(id)->keySequence();
        if (const QString other = m_registry->usedBy(k, id); !other.isEmpty() && !changed.contains(other)) {
            m_problem->setText(
                tr("%1 is already a shortcut of “%2”.")
                    .arg(k.toString(QKeySequence::NativeText), QString(m_registry->spec(other)->text).remove(u'&')));
            return;
        }
    }
    for (const QString &id : std::as_const(changed))
        m_registry->setShortcuts(id, QList<QKeySequence> {}, *m_settings);
    for (const QString &id : std::as_const(changed)) {
        const QKeySequence k = m_edits.value(id)->keySequence();
        const ActionSpec *spec = m_registry->spec(id);
        const bool isDefault = spec
            && (k.isEmpty() ? spec->shortcuts.isEmpty() : (!spec->shortcuts.isEmpty() && spec->shortcuts.front() == k));
        const Status s = m_registry->setShortcuts(id,
            isDefault
                ? std::nullopt
                : std::optional<QList<QKeySequence>>(k.isEmpty() ? QList<QKeySequence> {} : QList<QKeySequence> { k }),
            *m_settings);
        if (!s) {
            m_problem->setText(s.error());
            return;
        }
        m_shown.insert(id, k);
    }
    m_problem->clear();
    accept();
}

} // namespace fleet
