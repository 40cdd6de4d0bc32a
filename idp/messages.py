"""Page texts of the identity provider (Simplified Chinese first, English)."""

from govtrust.i18n import register

register(
    {
        "idp.error.title": {"zh": "无法完成请求", "en": "The request cannot be completed"},
        "idp.login.title": {"zh": "统一身份认证登录", "en": "National single sign-on"},
        "idp.login.for": {"zh": "您正在登录「{client}」", "en": "You are signing in to “{client}”"},
        "idp.login.sso": {
            "zh": "一次登录，全国各地区政务服务平台通用。",
            "en": "Sign in once; every regional platform recognises you.",
        },
        "idp.username": {"zh": "用户名", "en": "Username"},
        "idp.password": {"zh": "密码", "en": "Password"},
        "idp.signin": {"zh": "登录", "en": "Sign in"},
        "login.failed": {
            "zh": "用户名或密码错误，或尝试过于频繁，请稍后再试。",
            "en": "Wrong username or password, or too many attempts; please try again later.",
        },
        "idp.mfa.title": {"zh": "二次验证", "en": "Second factor"},
        "idp.mfa.hint": {
            "zh": "请输入身份验证器中的 6 位动态码，或一个恢复码。",
            "en": "Enter the 6-digit code from your authenticator app, or a recovery code.",
        },
        "idp.mfa.code": {"zh": "动态码", "en": "Code"},
        "idp.mfa.verify": {"zh": "验证", "en": "Verify"},
        "mfa.failed": {
            "zh": "验证码不正确，请重试。",
            "en": "That code is not correct; please try again.",
        },
        "idp.consent.title": {"zh": "授权确认", "en": "Allow access"},
        "idp.consent.asks": {
            "zh": "「{client}」请求获取您的以下信息：",
            "en": "“{client}” asks for the following:",
        },
        "idp.consent.allow": {"zh": "同意", "en": "Allow"},
        "idp.consent.deny": {"zh": "拒绝", "en": "Deny"},
        "scope.openid": {"zh": "确认您的身份", "en": "Confirm who you are"},
        "scope.profile": {"zh": "姓名", "en": "Your name"},
        "scope.phone": {"zh": "手机号码", "en": "Your mobile number"},
        "scope.identity": {
            "zh": "实名信息（姓名、公民身份号码）",
            "en": "Real-name identity (name, citizen ID number)",
        },
        "scope.enterprise": {
            "zh": "企业信息（企业名称、统一社会信用代码）",
            "en": "Enterprise (name, unified social credit code)",
        },
        "scope.offline_access": {"zh": "在您离开后继续访问", "en": "Access while you are away"},
        "idp.logout.title": {"zh": "退出登录", "en": "Sign out"},
        "idp.logout.ask": {
            "zh": "确认退出？您将同时退出所有地区政务服务平台。",
            "en": "Sign out? You will be signed out of every regional platform.",
        },
        "idp.logout.none": {"zh": "您当前未登录。", "en": "You are not signed in."},
        "idp.logout.confirm": {"zh": "确认退出", "en": "Sign out"},
        "idp.logged_out": {"zh": "您已安全退出", "en": "You have signed out"},
        "idp.logged_out.all": {
            "zh": "所有地区政务服务平台均已收到退出通知。",
            "en": "Every regional platform has been told.",
        },
        "idp.account.title": {"zh": "我的账户", "en": "My account"},
        "idp.account.level": {"zh": "认证等级", "en": "Level of assurance"},
        "idp.account.sessions": {"zh": "登录中的设备", "en": "Active sessions and devices"},
        "idp.account.device": {"zh": "设备", "en": "Device"},
        "idp.account.platforms": {"zh": "已访问的平台", "en": "Platforms used"},
        "idp.account.this": {"zh": "当前设备", "en": "This device"},
        "idp.account.end": {"zh": "下线", "en": "End"},
        "idp.account.consents": {"zh": "已授权的应用", "en": "Consents given"},
        "idp.account.recent": {"zh": "最近登录记录", "en": "Recent sign-ins"},
        "idp.kind.citizen": {"zh": "个人", "en": "citizen"},
        "idp.kind.enterprise": {"zh": "法人", "en": "legal person"},
    }
)
