"""The data contract (``data-contract.md``) as code: tables, columns, kinds.

Each column has a *kind* that names its normaliser in ``auditor.normalize``.
``required`` means the column must be present in the file (absent: the input is
unusable, exit 2); ``nullable`` means an empty value is allowed (otherwise the
row is quarantined). Optional columns that are absent are added as nulls and
recorded, so rules that need them report themselves as not run.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    kind: str = "str"
    required: bool = True
    nullable: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    label: str
    columns: tuple[Column, ...]
    required: bool = False
    key: str | None = None  # unique identifier column

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _c(name: str, label: str, kind: str = "str", *, req: bool = True, null: bool = False) -> Column:
    return Column(name, label, kind, required=req, nullable=null)


def _opt(name: str, label: str, kind: str = "str") -> Column:
    """An optional, nullable column."""
    return Column(name, label, kind, required=False, nullable=True)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "cases", "救助案件", required=True, key="case_id",
            columns=(
                _c("case_id", "案件编号"),
                _c("program", "救助类型", "program"),
                _c("payee_id", "领款人身份证号", "person_id"),
                _c("street", "街镇"),
                _opt("community", "居村委"),
                _c("status", "状态", "case_status"),
                _c("start_month", "起始月份", "month"),
                _opt("end_month", "终止月份", "month"),
                _c("monthly_amount", "月救助金额", "amount", null=True),
                _opt("bank_account", "银行账号", "account"),
                _opt("approved_on", "审批日期", "date"),
                _opt("approved_by", "审批人"),
                _opt("handled_by", "经办人"),
                _opt("review_cycle", "核查周期", "review_cycle"),
                _opt("last_reviewed_on", "最近核查日期", "date"),
                _opt("basis", "认定依据"),
                _opt("phase_out_start", "渐退起始月份", "month"),
            ),
        ),
        Table(
            "members", "案件成员", required=True,
            columns=(
                _c("case_id", "案件编号"),
                _c("person_id", "身份证号", "person_id"),
                _c("name", "姓名", null=True),
                _opt("relation_to_payee", "与领款人关系", "member_relation"),
                _opt("phone", "联系电话", "phone"),
                _opt("address", "居住地址", "address"),
            ),
        ),
        Table(
            "payments", "业务系统发放明细", required=True, key="payment_id",
            columns=(
                _c("payment_id", "发放编号"),
                _c("case_id", "案件编号", null=True),
                _c("payee_id", "领款人身份证号", "person_id"),
                _c("program", "救助类型", "program"),
                _c("month", "所属月份", "month"),
                _c("amount", "发放金额", "amount"),
                _c("bank_account", "银行账号", "account"),
                _c("street", "街镇"),
                _opt("small_amount", "小金额先行救助", "bool"),
            ),
        ),
        Table(
            "ledger", "资金内控平台支付流水", required=True, key="txn_id",
            columns=(
                _c("txn_id", "流水号"),
                _opt("case_id", "案件编号"),
                _c("payee_id", "收款人身份证号", "person_id"),
                _c("program", "救助类型", "program"),
                _c("month", "所属月份", "month"),
                _c("amount", "支付金额", "amount"),
                _c("bank_account", "收款账号", "account"),
                _c("paid_on", "支付日期", "date", null=True),
                _c("street", "街镇"),
                _c("status", "支付状态", "ledger_status"),
            ),
        ),
        Table(
            "allocations", "资金拨付",
            columns=(
                _c("street", "街镇"),
                _c("program", "救助类型", "program"),
                _c("month", "所属月份", "month"),
                _c("amount", "拨付金额", "amount"),
                _opt("allocated_on", "拨付日期", "date"),
            ),
        ),
        Table(
            "accounts", "账户归属",
            columns=(
                _c("bank_account", "银行账号", "account"),
                _c("holder_id", "开户人身份证号", "person_id"),
                _opt("holder_name", "开户人姓名"),
            ),
        ),
        Table(
            "staff", "工作人员及村居干部", key="staff_id",
            columns=(
                _c("staff_id", "工号"),
                _c("person_id", "身份证号", "person_id"),
                _c("name", "姓名", null=True),
                _c("role", "岗位", "staff_role"),
                _c("street", "街镇"),
                _opt("community", "居村委"),
                _opt("phone", "电话", "phone"),
                _opt("address", "住址", "address"),
                _opt("bank_account", "银行账号", "account"),
                _opt("active_from", "任职起始日期", "date"),
                _opt("active_to", "任职终止日期", "date"),
            ),
        ),
        Table(
            "relations", "亲属关系",
            columns=(
                _c("person_id", "身份证号", "person_id"),
                _c("relative_id", "亲属身份证号", "person_id"),
                _c("relation", "关系", "relation"),
                _opt("source", "来源"),
            ),
        ),
        Table(
            "kin_filings", "近亲属备案", key="filing_id",
            columns=(
                _c("filing_id", "备案编号"),
                _c("staff_id", "工号"),
                _c("relative_id", "亲属身份证号", "person_id"),
                _opt("relation", "关系", "relation"),
                _opt("filed_on", "备案日期", "date"),
            ),
        ),
        Table(
            "custody_filings", "卡折代管备案", key="filing_id",
            columns=(
                _c("filing_id", "备案编号"),
                _c("person_id", "受助人身份证号", "person_id"),
                _c("bank_account", "银行账号", "account"),
                _c("custodian_id", "代管人身份证号", "person_id"),
                _opt("custodian_name", "代管人姓名"),
                _opt("reason", "代管原因"),
                _c("start_date", "起始日期", "date"),
                _opt("end_date", "终止日期", "date"),
                _c("approved_by", "审批人", null=True),
            ),
        ),
        Table(
            "dishonesty", "失信记录", key="record_id",
            columns=(
                _c("record_id", "记录编号"),
                _c("person_id", "身份证号", "person_id"),
                _opt("name", "姓名"),
                _opt("reason", "失信原因"),
                _c("recorded_on", "认定日期", "date"),
                _opt("restricted_until", "限制截止日期", "date"),
                _c("amount_defrauded", "骗取金额", "amount", null=True),
                _c("amount_recovered", "已追回金额", "amount", null=True),
                _c("reported_on", "报送联席会议办公室日期", "date", null=True),
                _opt("unit", "认定单位"),
            ),
        ),
        Table(
            "deaths", "身故",
            columns=(_c("person_id", "身份证号", "person_id"), _c("died_on", "死亡日期", "date")),
        ),
        Table(
            "public_payroll", "财政供养人员",
            columns=(
                _c("person_id", "身份证号", "person_id"),
                _opt("employer", "工作单位"),
                _c("start_date", "起始日期", "date"),
                _opt("end_date", "终止日期", "date"),
            ),
        ),
        Table(
            "vehicles", "车辆登记",
            columns=(
                _c("person_id", "身份证号", "person_id"),
                _opt("plate", "号牌号码"),
                _opt("vehicle_type", "车辆类型"),
                _c("registered_on", "登记日期", "date", null=True),
                _opt("deregistered_on", "注销日期", "date"),
            ),
        ),
        Table(
            "businesses", "市场主体登记",
            columns=(
                _c("person_id", "身份证号", "person_id"),
                _opt("business_id", "统一社会信用代码"),
                _opt("business_name", "主体名称"),
                _c("role", "角色", "business_role"),
                _c("start_date", "起始日期", "date", null=True),
                _opt("end_date", "终止日期", "date"),
            ),
        ),
        Table(
            "real_estate", "不动产登记",
            columns=(
                _c("person_id", "身份证号", "person_id"),
                _c("property_id", "不动产单元号"),
                _opt("area_sqm", "面积"),
                _c("registered_on", "登记日期", "date", null=True),
                _opt("deregistered_on", "注销日期", "date"),
            ),
        ),
        Table(
            "penalties", "刑事处罚",
            columns=(
                _c("person_id", "身份证号", "person_id"),
                _c("kind", "刑罚类型", "penalty_kind"),
                _c("start_date", "起始日期", "date"),
                _opt("end_date", "终止日期", "date"),
            ),
        ),
        Table(
            "employment", "就业登记",
            columns=(
                _c("person_id", "身份证号", "person_id"),
                _opt("employer", "用人单位"),
                _c("monthly_income", "月收入", "amount", null=True),
                _c("start_date", "起始日期", "date"),
                _opt("end_date", "终止日期", "date"),
            ),
        ),
        Table(
            "applications", "申请受理", key="application_id",
            columns=(
                _c("application_id", "申请编号"),
                _c("person_id", "身份证号", "person_id"),
                _c("program", "救助类型", "program"),
                _opt("street", "街镇"),
                _c("received_on", "受理日期", "date"),
                _c("decided_on", "审批日期", "date", null=True),
                _opt("special", "特殊情形", "bool"),
                _opt("outcome", "结果"),
            ),
        ),
    )
}

REQUIRED_TABLES = tuple(name for name, t in TABLES.items() if t.required)
