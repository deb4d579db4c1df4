"""离岗离职: the guided procedure for one person, in three steps (seed 002 §六(三), seed 003
涉密人员管理制度 第七、八条).

1. 谈话与承诺书: where the person goes (脱密期, 调离, 退休) and why, the 保密提醒谈话 (date, who
   held it), the 离岗保密承诺书 printed filled, the day it was signed;
2. 清退物品: everything still in their hands, read from the other ledgers, each given back (a
   copy lent or distributed: 归还 to its carrier's 保管人) or handed to a named person (移交) with
   the approver;
3. 权限与脱密期: access to classified systems revoked (a box ticked, who and when), the 脱密期
   from the grade with its computed end; 办理离岗 closes the person.

Every read and write is a call of services/departure.py run off the UI thread (ui/tasks.py);
a refusal (an item still held, a fact missing) is shown in the dialog in Chinese, nothing lost.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDialog, QFormLayout, QHBoxLayout, QLabel,
                               QPushButton, QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)

from mibao_desktop.errors import Cancelled, ServiceError
from mibao_desktop.ledgers import PEOPLE
from mibao_desktop.ledgers import carriers as C
from mibao_desktop.ledgers.declaration import DECOMMISSIONING, DEPARTURE_FACTS
from mibao_desktop.services.departure import LEAVING, HeldItem, Plan
from mibao_desktop.services.views import RecordView
from mibao_desktop.ui import messages
from mibao_desktop.ui.editors import FieldEditor, editor_for
from mibao_desktop.ui.messages import ERROR_STYLE
from mibao_desktop.ui.tasks import BackgroundTask

HELD_HEADERS = ["类别", "编号", "名称", "密级", "责任关系", "状态"]
TALK = ("reason", "briefed_on", "briefed_by")
PLEDGE = ("pledge_signed_on",)
ACCESS = ("access_revoked_by", "access_revoked_on")


class DepartureDialog(QDialog):
    def __init__(self, services, person: RecordView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services, self.person = services, person
        self.departure = services.departure
        self.held: list[HeldItem] = []
        self.plan: Plan | None = None
        self.task: BackgroundTask | None = None
        self.left: RecordView | None = None  # the person as they are once closed
        self.setWindowTitle(f"离岗离职 · {person.label}({person.number})")
        facts = {f.name: f for f in DEPARTURE_FACTS}
        self.editors: dict[str, FieldEditor] = {name: editor_for(f) for name, f in facts.items()}
        for name in ("briefed_on", "pledge_signed_on", "access_revoked_on"):
            self.editors[name].set_text(dt.date.today().isoformat())

        head = QLabel(f"{person.label}  {person.display('department')}  {person.display('post')}  "
                      f"涉密等级:{person.display('grade') or '未定'}  当前:{person.status}")
        head.setStyleSheet("font-weight: bold;")
        self.tabs = QTabWidget()
        self.tabs.addTab(self._talk_tab(facts), "1 谈话与承诺书")
        self.tabs.addTab(self._items_tab(), "2 清退物品")
        self.tabs.addTab(self._access_tab(), "3 权限与脱密期")
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()
        self.finish_button = QPushButton("办理离岗")
        self.finish_button.setToolTip("物品全部清退、权限已取消后,将人员转为所选状态并确定脱密期")
        self.finish_button.clicked.connect(self.finish)
        self.close_button = QPushButton("关闭")
        self.close_button.clicked.connect(self.reject)
        bar = QHBoxLayout()
        bar.addStretch(1)
        bar.addWidget(self.finish_button)
        bar.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.error)
        layout.addLayout(bar)
        self.resize(900, 600)
        self.reload()

    # -- the steps ---------------------------------------------------------------------------

    def _talk_tab(self, facts) -> QWidget:
        host = QWidget()
        outer = QVBoxLayout(host)
        form = QFormLayout()
        outer.addLayout(form)
        outer.addStretch(1)
        self.editors["reason"].setMaximumHeight(64)  # a line or two: why they leave
        self.status = QComboBox()
        self.status.addItems(LEAVING)
        graded = bool(self.person.values.get("grade"))
        self.status.setCurrentText(DECOMMISSIONING if graded else "调离")
        self.status.currentTextChanged.connect(lambda _t: self._show_plan())
        form.addRow("离岗后 *", self.status)
        for name in TALK:
            form.addRow(f"{'离岗原因' if name == 'reason' else facts[name].label} *", self.editors[name])
        self.print_button = QPushButton("打印离岗保密承诺书…")
        self.print_button.setToolTip("按以上内容和脱密期填好的承诺书,打印后由本人签字")
        self.print_button.clicked.connect(self.print_pledge)
        line = QHBoxLayout()
        line.addWidget(self.print_button)
        line.addStretch(1)
        form.addRow("", line)
        for name in PLEDGE:
            form.addRow(f"{facts[name].label} *", self.editors[name])
        note = QLabel("依据:保密管理规定六(三) 对离岗离职人员进行保密提醒谈话,签订离岗离职保密承诺书。")
        note.setWordWrap(True)
        note.setStyleSheet("color: #555555;")
        form.addRow(note)
        return host

    def _items_tab(self) -> QWidget:
        host = QWidget()
        self.held_summary = QLabel("正在读取……")
        self.held_table = QTableWidget(0, len(HELD_HEADERS))
        self.held_table.setHorizontalHeaderLabels(HELD_HEADERS)
        self.held_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.held_table.setTabKeyNavigation(False)  # Tab goes on to the buttons, not round the cells
        self.held_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.held_table.setAlternatingRowColors(True)
        self.held_table.verticalHeader().setVisible(False)
        self.held_table.horizontalHeader().setStretchLastSection(True)
        self.to = editor_for(C.NEW_HOLDER, suggest=lambda text: self.services.ledgers.suggestions(
            C.CARRIER_COPIES, C.NEW_HOLDER.name, text))
        self.approver = editor_for(C.APPROVER)
        self.give_back_button = QPushButton("归还所选")
        self.give_back_button.setToolTip("借出、已分发的载体份归还其载体的保管人")
        self.give_back_button.clicked.connect(self.give_back)
        self.hand_over_button = QPushButton("移交所选")
        self.hand_over_button.setToolTip("所选物品移交给接收人:设备、介质改责任人/使用人,载体改保管人,载体份办理移交")
        self.hand_over_button.clicked.connect(self.hand_over)
        self.select_all = QPushButton("全选")
        self.select_all.clicked.connect(self.held_table.selectAll)
        form = QFormLayout()
        form.addRow("移交给 *", self.to)
        form.addRow("批准人 *", self.approver)
        buttons = QHBoxLayout()
        buttons.addWidget(self.select_all)
        buttons.addStretch(1)
        buttons.addWidget(self.give_back_button)
        buttons.addWidget(self.hand_over_button)
        layout = QVBoxLayout(host)
        layout.addWidget(self.held_summary)
        layout.addWidget(self.held_table, 1)
        layout.addLayout(form)
        layout.addLayout(buttons)
        return host

    def _access_tab(self) -> QWidget:
        host = QWidget()
        outer = QVBoxLayout(host)
        form = QFormLayout()
        outer.addLayout(form)
        outer.addStretch(1)
        self.revoked = QCheckBox("已取消其涉密信息系统账户和访问权限")
        form.addRow(self.revoked)
        form.addRow(f"{self.editors['access_revoked_by'].field.label} *", self.editors["access_revoked_by"])
        form.addRow(f"{self.editors['access_revoked_on'].field.label} *", self.editors["access_revoked_on"])
        self.plan_label = QLabel("正在计算……")
        self.plan_label.setWordWrap(True)
        self.plan_label.setStyleSheet("font-weight: bold;")
        form.addRow("脱密期", self.plan_label)
        note = QLabel("依据:涉密人员管理制度第七条 脱密期一般为6个月至3年,按涉密等级确定(系统 › 脱密期…);"
                      "第八条 清退个人承办、保管的密件,经验证无误后方可办理调动或退休。")
        note.setWordWrap(True)
        note.setStyleSheet("color: #555555;")
        form.addRow(note)
        return host

    # -- reading -----------------------------------------------------------------------------

    def reload(self) -> None:
        """What the person still holds and the 脱密期 they would get (off the UI thread)."""
        departure, person_id = self.departure, self.person.id

        # the 脱密期 counted from the day of leaving, as 办理离岗 stores it (DepartureService.leave),
        # not from the talk's day: the signed pledge names the period the register holds
        def work(_progress, _cancelled):
            return departure.holdings(person_id), departure.plan(person_id)

        self._run("正在读取所持物品……", work, self._show, reread=False)

    def _show(self, result) -> None:
        self.held, self.plan = result
        self.held_table.setRowCount(len(self.held))
        for r, item in enumerate(self.held):
            for c, text in enumerate((item.noun, item.number, item.title, item.level or "—", item.roles,
                                      item.record.status)):
                cell = QTableWidgetItem(text)
                cell.setData(Qt.ItemDataRole.UserRole, item.record.id)
                self.held_table.setItem(r, c, cell)
        self.held_table.resizeColumnsToContents()
        self.held_summary.setText(f"尚未清退 {len(self.held)} 件:逐件归还或移交后方可办理离岗。" if self.held
                                  else "所持设备、介质和载体已全部清退。")
        self.tabs.setTabText(1, f"2 清退物品({len(self.held)})" if self.held else "2 清退物品 ✓")
        self._show_plan()

    def _show_plan(self) -> None:
        if self.plan is None:
            return
        if self.status.currentText() != DECOMMISSIONING:
            self.plan_label.setText(f"转为“{self.status.currentText()}”,不设脱密期")
        else:
            self.plan_label.setText(self.plan.period_text)

    # -- acting ------------------------------------------------------------------------------

    def _chosen(self) -> list[HeldItem]:
        rows = sorted({i.row() for i in self.held_table.selectedIndexes()})
        return [self.held[r] for r in rows if r < len(self.held)]

    def give_back(self) -> None:
        chosen = [h for h in self._chosen() if h.can_give_back]
        if not chosen:
            self._say("请选择借出、已分发、外出或送修的载体份(归还给其载体的保管人);其他物品请移交。")
            return
        departure, person_id, ids = self.departure, self.person.id, [h.record.id for h in chosen]
        self._run("正在办理归还……", lambda _p, _c: departure.give_back(person_id, ids), lambda _r: self.reload())

    def hand_over(self) -> None:
        chosen = self._chosen()
        if not chosen:
            self._say("请先在列表中选择要移交的物品。")
            return
        to, approver = self.to.value(), self.approver.text()
        departure, person_id, ids = self.departure, self.person.id, [h.record.id for h in chosen]
        self._run("正在办理移交……", lambda progress, _c: departure.hand_over(person_id, ids, to, approver=approver,
                                                                         progress=progress),
                  lambda _r: self.reload())

    def facts(self) -> dict:
        return {name: editor.value() for name, editor in self.editors.items()}

    def print_pledge(self) -> None:
        from mibao_desktop.ui.print_dialog import FormPrintDialog

        if self.plan is None:
            return
        facts = self.plan.form_facts(self.status.currentText(), self.facts())
        self.pledge_dialog = FormPrintDialog(self.services.printing, PEOPLE, [self.person], self,
                                             forms=("departure",), departure=facts)
        self.pledge_dialog.open()

    def finish(self) -> None:
        if not self.revoked.isChecked():
            self.tabs.setCurrentIndex(2)
            self._say("请先确认已取消其涉密信息系统账户和访问权限(勾选并填写经办人、日期)。")
            return
        status, facts = self.status.currentText(), self.facts()
        if not messages.confirm(self, "办理离岗", f"确定将{self.person.label}转为“{status}”吗?"
                                + ("将按涉密等级确定脱密期。" if status == DECOMMISSIONING else ""), action="办理离岗"):
            return
        departure, person_id = self.departure, self.person.id
        self._run("正在办理离岗……", lambda _p, _c: departure.leave(person_id, status, facts), self._left)

    def _left(self, person: RecordView) -> None:
        self.left = person
        until = person.values.get("decommission_until")
        messages.inform(self, "离岗离职", f"{person.label} 已转为“{person.status}”。"
                        + (f"脱密期至 {until.isoformat()},届满后自动转为已脱密。" if until else ""))
        self.accept()

    # -- plumbing ----------------------------------------------------------------------------

    def _day(self, name: str) -> dt.date | None:
        try:
            value = self.editors[name].field.normalise(self.editors[name].text())
        except Exception:  # noqa: BLE001 - not a date yet: the plan counts from today
            return None
        return value if isinstance(value, dt.date) else None

    def _say(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def _run(self, label: str, work, then, *, reread: bool = True) -> None:
        """``work`` off the UI thread, then ``then(result)``; a refused write reads the list
        again (some items may have gone before the refusal), a failed read does not."""
        if self.busy:
            return
        self._reread = reread
        if reread:  # a new write: the last refusal is gone (a read after it leaves it shown)
            self.error.hide()
        self.task = BackgroundTask(self, label, work)
        self.task.done.connect(lambda result: (self._idle(), then(result)))
        self.task.failed.connect(self._failed)
        self._enable(False)
        self.task.start()

    def _idle(self) -> None:
        self.task = None
        self._enable(True)

    def _enable(self, on: bool) -> None:
        for button in (self.finish_button, self.give_back_button, self.hand_over_button, self.print_button):
            button.setEnabled(on)

    @property
    def busy(self) -> bool:
        return self.task is not None and self.task.running

    def _failed(self, exc: BaseException) -> None:
        self._idle()
        if isinstance(exc, Cancelled):
            return
        if isinstance(exc, ServiceError):  # a refusal: said here, what was typed stays
            messages.inline(self.error, exc)
        else:
            messages.show_error(self, "离岗离职", exc)
        if self._reread:
            self.reload()

    def reject(self) -> None:
        if self.busy:
            return
        super().reject()


__all__ = ["DepartureDialog"]
