//! The consent page behind `/v1/oauth/authorize`: workspace switcher, Select
//! pages, Allow access / Cancel. Built in the authorization issue.
